// libcurl's easy interface, reached through dlopen/dlsym (see ccurl.h). The header gives the types and option
// numbers (libcurl keeps them stable across versions); nothing is linked at build time.

#include "ccurl.h"
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;
static int loaded = 0;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) library = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) return;
    CURLcode (*global_init)(long) = (CURLcode (*)(long))dlsym(library, "curl_global_init");
    api.easy_init = (CURL *(*)(void))dlsym(library, "curl_easy_init");
    api.easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))dlsym(library, "curl_easy_setopt");
    api.easy_perform = (CURLcode (*)(CURL *))dlsym(library, "curl_easy_perform");
    api.easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))dlsym(library, "curl_easy_getinfo");
    api.easy_cleanup = (void (*)(CURL *))dlsym(library, "curl_easy_cleanup");
    api.slist_append = (struct curl_slist *(*)(struct curl_slist *, const char *))dlsym(library, "curl_slist_append");
    api.slist_free_all = (void (*)(struct curl_slist *))dlsym(library, "curl_slist_free_all");
    if (!global_init || !api.easy_init || !api.easy_setopt || !api.easy_perform || !api.easy_getinfo ||
        !api.easy_cleanup || !api.slist_append || !api.slist_free_all) return;
    // curl_global_init is not thread-safe: it runs once, here, before any transfer.
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return;
    loaded = 1;
}

typedef struct {
    ccurl_response *out;
    size_t limit;
    size_t capacity;
    const volatile int *cancel;
} exchange;

static size_t on_body(char *data, size_t size, size_t count, void *context) {
    exchange *x = context;
    size_t n = size * count;
    if (x->out->body_length + n > x->limit) {
        x->out->oversize = 1;
        return 0;  // stops the transfer (CURLE_WRITE_ERROR)
    }
    if (x->out->body_length + n > x->capacity) {
        size_t capacity = x->capacity ? x->capacity : 4096;
        while (capacity < x->out->body_length + n) capacity *= 2;
        unsigned char *grown = realloc(x->out->body, capacity);
        if (!grown) return 0;
        x->out->body = grown;
        x->capacity = capacity;
    }
    memcpy(x->out->body + x->out->body_length, data, n);
    x->out->body_length += n;
    return n;
}

static int on_progress(void *context, curl_off_t down_total, curl_off_t down_now, curl_off_t up_total,
                       curl_off_t up_now) {
    (void)down_total; (void)down_now; (void)up_total; (void)up_now;
    exchange *x = context;
    return x->cancel && *x->cancel ? 1 : 0;  // nonzero aborts (CURLE_ABORTED_BY_CALLBACK)
}

static CURLcode configure(CURL *curl, const char *url, const unsigned char *body, size_t body_length,
                          struct curl_slist *headers, long timeout_ms, exchange *x) {
    CURLcode c = CURLE_OK;
    if (!c) c = api.easy_setopt(curl, CURLOPT_URL, url);
    if (!c) c = api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!c) c = api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a 3xx is the answer
    if (!c) c = api.easy_setopt(curl, CURLOPT_POST, 1L);
    if (!c) c = api.easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
    if (!c) c = api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    if (!c) c = api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (!c) c = api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (!c) c = api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    if (!c) c = api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    if (!c) c = api.easy_setopt(curl, CURLOPT_WRITEDATA, x);
    if (!c) c = api.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    if (!c) c = api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (!c) c = api.easy_setopt(curl, CURLOPT_XFERINFODATA, x);
    return c;
}

static void read_response(CURL *curl, ccurl_response *out) {
    long status = 0;
    char *type = NULL;
    if (api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK) out->status = status;
    if (api.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type &&
        strlen(type) < sizeof out->content_type) {
        strcpy(out->content_type, type);
    }
}

int ccurl_post(const char *url, const unsigned char *body, size_t body_length, const char *content_type,
               long timeout_ms, size_t max_response, const volatile int *cancel, ccurl_response *out) {
    memset(out, 0, sizeof *out);
    pthread_once(&load_once, load);
    if (!loaded) return CCURL_NOT_LOADED;
    CURL *curl = api.easy_init();
    if (!curl) return CURLE_FAILED_INIT;
    char header[320];
    strcpy(header, "Content-Type: ");
    strncat(header, content_type, sizeof header - strlen(header) - 1);
    struct curl_slist *headers = api.slist_append(NULL, header);
    struct curl_slist *all = headers ? api.slist_append(headers, "Expect:") : NULL;  // no 100-continue round trip
    exchange x = {out, max_response, 0, cancel};
    CURLcode c = all ? configure(curl, url, body, body_length, all, timeout_ms, &x) : CURLE_OUT_OF_MEMORY;
    if (!c) c = api.easy_perform(curl);
    if (!c) read_response(curl, out);
    api.easy_cleanup(curl);
    if (all) api.slist_free_all(all); else if (headers) api.slist_free_all(headers);
    return (int)c;
}

void ccurl_response_free(ccurl_response *response) {
    free(response->body);
    response->body = NULL;
    response->body_length = 0;
}
