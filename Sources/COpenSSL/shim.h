#pragma once
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
