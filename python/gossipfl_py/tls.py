"""The cluster's mutual TLS for a Python node: the same CA and certificates as the Swift peers.

A certificate names its holder in a subjectAltName URI `gossipfl:ROLE/NAME` (made by `gossipfl
certs node --id NAME`); peers accept a message from node NAME only over a connection whose
certificate says node NAME (Sources/GossipRPC/PeerIdentity.swift). Without TLS (`insecure`)
every caller is trusted, as with `gossipfl peer --insecure`.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import grpc

URI_SCHEME = "gossipfl:"


@dataclass(frozen=True)
class ClusterTLS:
    ca: bytes
    cert: bytes
    key: bytes

    @staticmethod
    def load(cert_path: str, key_path: str, ca_path: str) -> "ClusterTLS":
        with open(ca_path, "rb") as ca, open(cert_path, "rb") as cert, open(key_path, "rb") as key:
            return ClusterTLS(ca.read(), cert.read(), key.read())

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert)

    def server_credentials(self) -> grpc.ServerCredentials:
        # Clients must present a certificate of the cluster's CA (REQUEST_AND_REQUIRE).
        return grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True)

    def own_identity(self) -> Optional[Tuple[str, str]]:
        return identity_of_pem(self.cert)


def identity_of_pem(pem: bytes) -> Optional[Tuple[str, str]]:
    """(role, name) from a certificate's `gossipfl:ROLE/NAME` URI, None if it has none."""
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(pem)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for uri in names.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(URI_SCHEME) and "/" in uri:
            role, name = uri[len(URI_SCHEME):].split("/", 1)
            return role, name
    return None


def caller_identity(context: grpc.ServicerContext) -> Optional[Tuple[str, str]]:
    """The calling peer's (role, name), from the certificate it presented; None without TLS."""
    pems = context.auth_context().get("x509_pem_cert")
    if not pems:
        return None
    return identity_of_pem(pems[0])


def authorize_node(context: grpc.ServicerContext, action: str, node_id: str, tls_on: bool) -> None:
    """Aborts with PERMISSION_DENIED unless the caller's certificate names node `node_id`
    (the Swift servers' `authorize(_:asNode:)`)."""
    if not tls_on:
        return
    identity = caller_identity(context)
    if identity != ("node", node_id):
        who = "%s %s" % identity if identity else "a caller without a cluster certificate"
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "%s may not %s" % (who, action))
