// One bounded HTTP POST through libcurl, loaded with dlopen on first use: the `ledger` binary does not link libcurl
// (or FoundationNetworking, whose libcurl, GnuTLS, Kerberos and LDAP libraries took ~7 ms of every command's
// start), so only `checkpoint --witness` pays for it. Only Witness imports this module; no C type leaves it.
#ifndef CCURL_H
#define CCURL_H
#include <stddef.h>

typedef struct {
    long status;                 // the HTTP status code
    char content_type[256];      // the Content-Type header ("" if none or too long)
    unsigned char *body;         // the response body (free with ccurl_response_free)
    size_t body_length;
    int oversize;                // 1 if the body passed the limit (the transfer was stopped)
} ccurl_response;

// Outcome codes besides libcurl's own CURLcode values (0 is success).
#define CCURL_NOT_LOADED (-1)    // libcurl is not installed (libcurl.so.4 did not load)

// POSTs `body` to `url` (http or https only; redirects are not followed) with the given Content-Type, within
// `timeout_ms` for the whole exchange, keeping at most `max_response` bytes of the response. The transfer stops
// with CURLE_ABORTED_BY_CALLBACK once `*cancel` becomes nonzero. Returns 0 or a CURLcode / CCURL_ code.
int ccurl_post(const char *url, const unsigned char *body, size_t body_length, const char *content_type,
               long timeout_ms, size_t max_response, const volatile int *cancel, ccurl_response *out);

void ccurl_response_free(ccurl_response *response);
#endif
