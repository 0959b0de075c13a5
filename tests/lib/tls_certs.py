"""A throw-away PKI for the TLS tests, made with the openssl CLI in a temp
dir: a CA, server certificates (RSA and ECDSA) for "localhost" and a few
names, client certificates (one revoked, in a CRL), one from another CA,
an encrypted key with its password file, and DH parameters.

    pki = tls_certs.make_pki(tmpdir)
    pki["rsa_cert"], pki["rsa_key"], pki["ca"], pki["client_cert"], ...
"""

from __future__ import annotations

import os
import subprocess

DAYS = "30"


def _run(*args: str, cwd: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(d: str, name: str) -> None:
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
         "-out", f"{name}.pem", "-days", DAYS, "-subj", f"/CN={name} Test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _leaf(d: str, name: str, ca: str, keyalg: list, subj: str, ext: str,
          serial: int) -> None:
    _run("req", "-new", "-newkey", *keyalg, "-nodes", "-keyout", f"{name}.key",
         "-out", f"{name}.csr", "-subj", subj, cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(ext)
    _run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
         "-set_serial", str(serial), "-days", DAYS, "-extfile", f"{name}.ext",
         "-out", f"{name}.pem", cwd=d)


SERVER_EXT = ("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
              "subjectAltName=DNS:localhost,DNS:a.example,DNS:b.example,IP:127.0.0.1\n")
CLIENT_EXT = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"


def _crl(d: str, revoked: str) -> None:
    """A CRL of ca revoking `revoked`.pem, through a minimal `openssl ca` setup."""
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "crlnumber"), "w") as f:
        f.write("01\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\ncrlnumber=crlnumber\n"
                "default_md=sha256\ndefault_crl_days=30\n")
    _run("ca", "-config", "ca.cnf", "-revoke", f"{revoked}.pem", "-keyfile", "ca.key",
         "-cert", "ca.pem", cwd=d)
    _run("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem",
         "-out", "crl.pem", cwd=d)


def make_pki(d: str, dhparam: bool = False) -> dict:
    os.makedirs(d, exist_ok=True)
    _ca(d, "ca")
    _ca(d, "other")
    _leaf(d, "rsa", "ca", ["rsa:2048"], "/CN=localhost", SERVER_EXT, 1001)
    _leaf(d, "ecdsa", "ca", ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
          "/CN=localhost", SERVER_EXT, 1002)
    _leaf(d, "client", "ca", ["rsa:2048"], "/C=XX/O=Lab/CN=client one", CLIENT_EXT, 2001)
    _leaf(d, "revoked", "ca", ["rsa:2048"], "/CN=client revoked", CLIENT_EXT, 2002)
    _leaf(d, "stranger", "other", ["rsa:2048"], "/CN=client stranger", CLIENT_EXT, 3001)
    _crl(d, "revoked")
    # The RSA key again, encrypted, with a password file whose second line
    # is the password (nginx tries each line).
    _run("pkey", "-in", "rsa.key", "-aes256", "-passout", "pass:s3cret",
         "-out", "rsa-enc.key", cwd=d)
    with open(os.path.join(d, "passwords"), "w") as f:
        f.write("wrong\ns3cret\n")
    out = {"dir": d, "ca": f"{d}/ca.pem", "other_ca": f"{d}/other.pem", "crl": f"{d}/crl.pem",
           "passwords": f"{d}/passwords", "rsa_enc_key": f"{d}/rsa-enc.key"}
    for n in ("rsa", "ecdsa", "client", "revoked", "stranger"):
        out[f"{n}_cert"] = f"{d}/{n}.pem"
        out[f"{n}_key"] = f"{d}/{n}.key"
    if dhparam:
        _run("dhparam", "-out", "dh.pem", "1024", cwd=d)
        out["dhparam"] = f"{d}/dh.pem"
    return out
