"""Authorization: who is calling, and whether AWS would let them (../shared/kms-authz-facts.md).

The modules, in the order a request meets them:

* ``principals``: registered IAM users, roles and role sessions (records on the backend), the
  ``Caller`` a request's access key id stands for, and ``via_service`` (the AWS service a request
  arrives through).
* ``policy``: policy documents parsed and compiled once per text (statements: principals,
  actions, resources, conditions), and their evaluation against one request.
* ``conditions``: the condition operators and policy variables.
* ``request_context``: the condition keys' values for one request (from the request, the key
  and the caller).
* ``grants``: when a grant allows a request, and who may retire a grant.
* ``authorize``: the one evaluation function (``decide``: allowed, or AWS's denial) and its
  messages.
* ``checks``: the key-policy document checks of CreateKey, PutKeyPolicy and ReplicateKey,
  the policy-lockout safety check included.

``_context.Context`` calls ``authorize`` for every key a request uses and every permission the
operation's catalogue row (``permissions``) lists.
"""
