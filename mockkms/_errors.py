"""AWS KMS errors: one exception class per AWS error code, named exactly as AWS names it.

A handler raises one of these; the protocol layer turns it into ``{"__type": code, "message": ...}``
with HTTP 400 (500 for KMSInternalException), which botocore parses into the modeled exception
class (``client.exceptions.NotFoundException``) or a plain ``ClientError`` for unmodeled codes.
Messages are AWS's wire text (../shared/kms-facts.md); ``None`` means AWS sends no message.
"""
from __future__ import annotations


class KMSError(Exception):
    """Base of every error the mock answers with."""

    status = 400

    def __init__(self, message: str | None = None):
        super().__init__(message or "")
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{self.code}({self.message!r})"


# --- errors the botocore KMS model declares (tests check this list against the model) ---
class AlreadyExistsException(KMSError):
    pass


class CloudHsmClusterInUseException(KMSError):
    pass


class CloudHsmClusterInvalidConfigurationException(KMSError):
    pass


class CloudHsmClusterNotActiveException(KMSError):
    pass


class CloudHsmClusterNotFoundException(KMSError):
    pass


class CloudHsmClusterNotRelatedException(KMSError):
    pass


class ConflictException(KMSError):
    pass


class CustomKeyStoreHasCMKsException(KMSError):
    pass


class CustomKeyStoreInvalidStateException(KMSError):
    pass


class CustomKeyStoreNameInUseException(KMSError):
    pass


class CustomKeyStoreNotFoundException(KMSError):
    pass


class DependencyTimeoutException(KMSError):
    pass


class DisabledException(KMSError):
    pass


class DryRunOperationException(KMSError):
    pass


class ExpiredImportTokenException(KMSError):
    pass


class IncorrectKeyException(KMSError):
    pass


class IncorrectKeyMaterialException(KMSError):
    pass


class IncorrectTrustAnchorException(KMSError):
    pass


class InvalidAliasNameException(KMSError):
    pass


class InvalidArnException(KMSError):
    pass


class InvalidCiphertextException(KMSError):
    pass


class InvalidGrantIdException(KMSError):
    pass


class InvalidGrantTokenException(KMSError):
    pass


class InvalidImportTokenException(KMSError):
    pass


class InvalidKeyUsageException(KMSError):
    pass


class InvalidMarkerException(KMSError):
    pass


class KMSInvalidMacException(KMSError):
    pass


class KMSInvalidSignatureException(KMSError):
    pass


class KMSInvalidStateException(KMSError):
    pass


class KeyUnavailableException(KMSError):
    pass


class LimitExceededException(KMSError):
    pass


class MalformedPolicyDocumentException(KMSError):
    pass


class NotFoundException(KMSError):
    pass


class TagException(KMSError):
    pass


class UnsupportedOperationException(KMSError):
    pass


class XksKeyAlreadyInUseException(KMSError):
    pass


class XksKeyInvalidConfigurationException(KMSError):
    pass


class XksKeyNotFoundException(KMSError):
    pass


class XksProxyIncorrectAuthenticationCredentialException(KMSError):
    pass


class XksProxyInvalidConfigurationException(KMSError):
    pass


class XksProxyInvalidResponseException(KMSError):
    pass


class XksProxyUriEndpointInUseException(KMSError):
    pass


class XksProxyUriInUseException(KMSError):
    pass


class XksProxyUriUnreachableException(KMSError):
    pass


class XksProxyVpcEndpointServiceInUseException(KMSError):
    pass


class XksProxyVpcEndpointServiceInvalidConfigurationException(KMSError):
    pass


class XksProxyVpcEndpointServiceNotFoundException(KMSError):
    pass




class KMSInternalException(KMSError):
    status = 500


# --- errors AWS sends that the model does not declare (botocore raises a plain ClientError) ---
class ValidationException(KMSError):
    pass


class SerializationException(KMSError):
    pass


class UnknownOperationException(KMSError):
    pass


class AccessDeniedException(KMSError):
    pass


class NotAuthorizedException(KMSError):
    """Sent (without a message) for alias names under the reserved ``alias/aws/`` prefix."""


class ThrottlingException(KMSError):
    pass


class RequestEntityTooLargeException(KMSError):
    pass


