"""Helpers for the interop suite: processes, TLS material, channels.

Fixtures live in conftest.py; this module holds the plain functions/classes
so test modules (and bench/grpc_bench.py) can import them.
"""

import datetime
import ipaddress
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

INTEROP_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(INTEROP_DIR, "..", ".."))
if INTEROP_DIR not in sys.path:
    sys.path.insert(0, INTEROP_DIR)

DEFAULT_BIN = os.path.join(REPO_ROOT, ".build", "debug", "gossipfl-interop")
PY_SERVER = os.path.join(INTEROP_DIR, "py_interop_server.py")
PY_CLIENT = os.path.join(INTEROP_DIR, "py_interop_client.py")

LOOPBACK = "127.0.0.1"
TLS_HOST_OVERRIDE = "localhost"
SERVER_START_TIMEOUT = 20.0
SERVER_STOP_TIMEOUT = 10.0
CLIENT_TIMEOUT = 30.0
TRANSPORTS = ["h2c", "tls"]

_LISTENING_RE = re.compile(r"^listening on (\S+):(\d+)\s*$")


# --------------------------------------------------------------------------
# ports, TLS material


def pick_free_port(host=LOOPBACK):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class TlsFiles:
    def __init__(self, ca, cert, key):
        self.ca, self.cert, self.key = ca, cert, key


def make_tls_files(directory):
    """A throwaway CA and a server cert for DNS:localhost + IP:127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=2)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gossipfl interop test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = TlsFiles(os.path.join(directory, "ca.pem"), os.path.join(directory, "server.pem"),
                     os.path.join(directory, "server.key"))
    with open(paths.ca, "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths.cert, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths.key, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(paths.key, 0o600)
    return paths


def server_tls_args(transport, tls):
    if transport == "tls":
        return ["--use_tls", "--tls_cert_file", tls.cert, "--tls_key_file", tls.key]
    return []


def client_tls_args(transport, tls):
    if transport == "tls":
        return ["--use_tls", "--ca_file", tls.ca, "--server_host_override", TLS_HOST_OVERRIDE]
    return []


# --------------------------------------------------------------------------
# processes


class ServerProcess:
    """A server subprocess that announced `listening on HOST:PORT`."""

    def __init__(self, cmd, name="server", start_timeout=SERVER_START_TIMEOUT, env=None):
        self.cmd = list(cmd)
        self.name = name
        self.host = None
        self.port = None
        self.transport = None
        self.returncode = None
        self._stdout_lines = []
        self._ready = threading.Event()
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
                env=env, cwd=REPO_ROOT)
        except OSError as e:
            self._stderr.close()
            raise RuntimeError("%s: cannot start %s: %s" % (name, shlex.join(self.cmd), e))
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + start_timeout
        while not self._ready.wait(0.05):
            msg = None
            if self.proc.poll() is not None:
                self._reader.join(2)
                msg = "%s exited with %s before announcing 'listening on'" % (name, self.proc.returncode)
            elif time.monotonic() > deadline:
                msg = "%s did not print 'listening on HOST:PORT' within %.0f s" % (name, start_timeout)
            if msg:
                self.stop()
                msg = self._describe(msg)
                self._stderr.close()
                raise RuntimeError(msg)

    def _read_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self._stdout_lines.append(line)
            if not self._ready.is_set():
                m = _LISTENING_RE.match(line)
                if m:
                    self.host, self.port = m.group(1).strip("[]"), int(m.group(2))
                    self._ready.set()
        self.proc.stdout.close()

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def stdout_text(self):
        return "\n".join(self._stdout_lines)

    def stderr_text(self, limit=8000):
        try:
            self._stderr.seek(0)
            data = self._stderr.read()
        except (ValueError, OSError):
            return "<stderr unavailable>"
        text = data.decode("utf-8", "replace")
        return text if len(text) <= limit else "...\n" + text[-limit:]

    def _describe(self, msg):
        return "%s\n  command: %s\n  stdout:\n%s\n  stderr:\n%s" % (
            msg, shlex.join(self.cmd), self.stdout_text(), self.stderr_text())

    def state(self):
        """'running' or how it ended, e.g. 'DEAD (killed by SIGPIPE)'."""
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return "DEAD (killed by %s)" % signal.Signals(-rc).name
            except ValueError:
                return "DEAD (killed by signal %d)" % -rc
        return "DEAD (exit %d)" % rc

    def is_alive(self):
        return self.proc.poll() is None

    def assert_alive(self, context=""):
        if not self.is_alive():
            pytest.fail(self._describe("%s is %s%s" % (
                self.name, self.state(), " " + context if context else "")), pytrace=False)

    def stop(self, timeout=SERVER_STOP_TIMEOUT):
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        self._reader.join(2)
        return self.returncode

    def close(self):
        self.stop()
        self._stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def start_server(cmd, name="server", **kw):
    """Start `cmd`, wait for its `listening on` line; pytest.fail on failure."""
    try:
        return ServerProcess(cmd, name=name, **kw)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


def run_client(cmd, timeout=CLIENT_TIMEOUT):
    """Run a client command, bounded; returns CompletedProcess (rc None on timeout)."""
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(cmd, None, out, err + "\n<killed after %.0f s>" % timeout)


def channel_to(py_client, srv, tls_files):
    """A fresh grpcio channel to a ServerProcess (TLS if srv.transport == 'tls')."""
    if srv.transport == "tls":
        return py_client.make_channel(srv.host, srv.port, True, tls_files.ca, TLS_HOST_OVERRIDE)
    return py_client.make_channel(srv.host, srv.port)


def assert_answers_empty_unary(py_client, srv, tls_files, context=""):
    """The server still serves: empty_unary from a fresh channel."""
    srv.assert_alive(context)
    with channel_to(py_client, srv, tls_files) as ch:
        try:
            py_client.run_case("empty_unary", ch)
        except AssertionError as e:
            fail_with_server_state(srv, "no longer answers empty_unary%s: %s" % (
                " " + context if context else "", e))


def run_case_against(py_client, srv, tls_files, case):
    """py_client.run_case on a fresh channel; failures include the server's state."""
    with channel_to(py_client, srv, tls_files) as ch:
        try:
            py_client.run_case(case, ch)
        except AssertionError as e:
            fail_with_server_state(srv, str(e))
    srv.assert_alive("after %s" % case)


def fail_with_server_state(srv, message):
    """pytest.fail with `message` plus whether the server is still alive + its stderr."""
    time.sleep(0.1)  # let a crashing server finish dying
    pytest.fail("%s\n  %s is %s\n  server stderr (tail):\n%s" % (
        message, srv.name, srv.state(), srv.stderr_text(4000)), pytrace=False)
