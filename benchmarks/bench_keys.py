"""Time CreateKey, first use (GetPublicKey, which generates the lazy key material) and Sign per
asymmetric key spec, through boto3 under ``mock_kms``. A script, not a test:

    python benchmarks/bench_keys.py            # 5 keys per spec
    python benchmarks/bench_keys.py --quick    # 1 key per spec, skips RSA_4096: a few seconds
    python benchmarks/bench_keys.py -n 20      # more keys per spec for steadier medians

Columns are medians in milliseconds. "first use" is where the private key is generated.
"""
from __future__ import annotations

import argparse
import statistics
import time

import boto3

from mockkms import mock_kms

SPECS = {  # spec -> (KeyUsage, a signing algorithm or None)
    "RSA_2048": ("SIGN_VERIFY", "RSASSA_PSS_SHA_256"),
    "RSA_3072": ("SIGN_VERIFY", "RSASSA_PSS_SHA_256"),
    "RSA_4096": ("SIGN_VERIFY", "RSASSA_PSS_SHA_256"),
    "ECC_NIST_P256": ("SIGN_VERIFY", "ECDSA_SHA_256"),
    "ECC_NIST_P384": ("SIGN_VERIFY", "ECDSA_SHA_384"),
    "ECC_NIST_P521": ("SIGN_VERIFY", "ECDSA_SHA_512"),
    "ECC_SECG_P256K1": ("SIGN_VERIFY", "ECDSA_SHA_256"),
    "ECC_NIST_EDWARDS25519": ("SIGN_VERIFY", "ED25519_SHA_512"),
    "ML_DSA_44": ("SIGN_VERIFY", "ML_DSA_SHAKE_256"),
    "ML_DSA_65": ("SIGN_VERIFY", "ML_DSA_SHAKE_256"),
    "ML_DSA_87": ("SIGN_VERIFY", "ML_DSA_SHAKE_256"),
}


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def bench(rounds: int, quick: bool) -> list[tuple]:
    rows = []
    with mock_kms():
        kms = boto3.client("kms", region_name="us-east-1")
        kms.list_keys()  # load the handlers before timing
        for spec, (usage, algorithm) in SPECS.items():
            if quick and spec == "RSA_4096":
                continue
            create, first, sign = [], [], []
            for _ in range(rounds):
                key_id = []
                create.append(_ms(lambda: key_id.append(
                    kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"])))
                first.append(_ms(lambda: kms.get_public_key(KeyId=key_id[0])))
                sign.append(_ms(lambda: kms.sign(KeyId=key_id[0], Message=b"benchmark",
                                                 SigningAlgorithm=algorithm)))
            rows.append((spec, statistics.median(create), statistics.median(first),
                         statistics.median(sign)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 key per spec, no RSA_4096")
    parser.add_argument("-n", type=int, default=5, help="keys per spec (default 5)")
    args = parser.parse_args()
    rows = bench(1 if args.quick else args.n, args.quick)
    print(f"{'KeySpec':<24}{'CreateKey ms':>14}{'first use ms':>14}{'Sign ms':>10}")
    for spec, create, first, sign in rows:
        print(f"{spec:<24}{create:>14.1f}{first:>14.1f}{sign:>10.1f}")


if __name__ == "__main__":
    main()
