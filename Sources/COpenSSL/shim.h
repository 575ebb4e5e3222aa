#pragma once
#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Swift cannot call OpenSSL's function-like macros; these wrap the few we use. */

static inline int gfl_ssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline int gfl_ssl_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/* Server side ALPN: accept only "h2" (gRPC requires HTTP/2). */
static inline int gfl_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                     const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char h2[] = "\x02h2";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, h2, sizeof(h2) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void gfl_ssl_ctx_select_h2(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, gfl_alpn_select_h2, NULL);
}

/* Client side ALPN offer: "h2" only. Returns 0 on success (OpenSSL's convention here). */
static inline int gfl_ssl_ctx_offer_h2(SSL_CTX *ctx) {
    static const unsigned char h2[] = "\x02h2";
    return SSL_CTX_set_alpn_protos(ctx, h2, sizeof(h2) - 1);
}

/* 1 when the connection negotiated "h2" via ALPN. */
static inline int gfl_ssl_negotiated_h2(const SSL *ssl) {
    const unsigned char *proto = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    return len == 2 && memcmp(proto, "h2", 2) == 0;
}

/* The oldest queued OpenSSL error as text ("" when none), into buf. */
static inline const char *gfl_ssl_last_error(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    if (e == 0) { if (len) buf[0] = 0; return buf; }
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* ---- certificates: the cluster CA and node/admin/gateway certificates (gossipfl certs) ---- */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/rand.h>

/* A new EC P-256 key (EVP_EC_gen is a macro over a variadic call). */
static inline EVP_PKEY *gfl_ec_p256_key(void) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static inline int gfl_x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* Builds and signs a certificate. issuer/issuer_key NULL: self-signed with `key`.
   `extensions` is a list of (nid, value) pairs, `count` of them. */
static inline X509 *gfl_x509_make(EVP_PKEY *key, const char *common_name, long days,
                                  X509 *issuer, EVP_PKEY *issuer_key, const int *nids, const char **values, int count) {
    X509 *cert = X509_new();
    if (!cert) return NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *asn = NULL;
    if (RAND_bytes(serial, sizeof serial) != 1) goto fail;
    serial[0] &= 0x7F; /* positive */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    asn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    if (!asn || X509_set_serialNumber(cert, asn) != 1) goto fail;
    if (X509_set_version(cert, 2) != 1) goto fail;
    if (!X509_gmtime_adj(X509_getm_notBefore(cert), -3600)) goto fail;
    if (!X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400L)) goto fail;
    if (X509_set_pubkey(cert, key) != 1) goto fail;
    X509_NAME *name = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0) != 1) goto fail;
    if (X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1) goto fail;
    for (int i = 0; i < count; i++) {
        if (!gfl_x509_add_ext(cert, issuer, nids[i], values[i])) goto fail;
    }
    if (X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) <= 0) goto fail;
    BN_free(bn);
    ASN1_INTEGER_free(asn);
    return cert;
fail:
    BN_free(bn);
    ASN1_INTEGER_free(asn);
    X509_free(cert);
    return NULL;
}

/* PEM text of a certificate or private key into a malloc'ed buffer (*len bytes); NULL on failure. */
static inline char *gfl_pem_from_bio(BIO *bio, size_t *len) {
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = n > 0 ? malloc((size_t)n) : NULL;
    if (out) { memcpy(out, data, (size_t)n); *len = (size_t)n; }
    BIO_free(bio);
    return out;
}

static inline char *gfl_x509_pem(X509 *cert, size_t *len) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_X509(bio, cert) != 1) { BIO_free(bio); return NULL; }
    return gfl_pem_from_bio(bio, len);
}

static inline char *gfl_key_pem(EVP_PKEY *key, size_t *len) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) { BIO_free(bio); return NULL; }
    return gfl_pem_from_bio(bio, len);
}

static inline X509 *gfl_x509_from_pem(const char *pem, int len) {
    BIO *bio = BIO_new_mem_buf(pem, len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

static inline EVP_PKEY *gfl_key_from_pem(const char *pem, int len) {
    BIO *bio = BIO_new_mem_buf(pem, len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return key;
}

/* The first subjectAltName URI starting with `prefix`, copied into buf (NUL-terminated);
   returns its length, or -1 when there is none (or it does not fit, or holds a NUL). */
static inline int gfl_x509_uri_san(X509 *cert, const char *prefix, char *buf, size_t len) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (!names) return -1;
    int found = -1;
    size_t plen = strlen(prefix);
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && found < 0; i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(names, i);
        if (gen->type != GEN_URI) continue;
        const ASN1_IA5STRING *uri = gen->d.uniformResourceIdentifier;
        int n = ASN1_STRING_length(uri);
        const unsigned char *data = ASN1_STRING_get0_data(uri);
        if (n < 0 || (size_t)n >= len || (size_t)n < plen || memcmp(data, prefix, plen) != 0) continue;
        if (memchr(data, 0, (size_t)n)) continue;
        memcpy(buf, data, (size_t)n);
        buf[n] = 0;
        found = n;
    }
    GENERAL_NAMES_free(names);
    return found;
}

/* The peer's certificate if the handshake verified it against our trust roots, else NULL (caller frees). */
static inline X509 *gfl_ssl_verified_peer(SSL *ssl) {
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (cert && SSL_get_verify_result(ssl) != X509_V_OK) { X509_free(cert); return NULL; }
    return cert;
}

static inline void gfl_ssl_ctx_verify_peer(SSL_CTX *ctx, int required) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
}
