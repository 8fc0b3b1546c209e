/* CCurl: libcurl, loaded on first use with dlopen, so a process that never makes an HTTP request (slothd
   until a workflow calls http, `sloth run -f` of most workflows) never maps libcurl and the dozens of
   libraries it pulls in. libcurl's variadic curl_easy_setopt/getinfo become one typed function per
   argument kind. */
#ifndef SLOTH_CCURL_SHIM_H
#define SLOTH_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*sloth_curl_write_fn)(char *data, size_t size, size_t nmemb, void *userdata);

struct sloth_curl_api {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};
extern struct sloth_curl_api sloth_curl;

/* NULL once libcurl is loaded and initialised (every function below needs that), else why not. */
const char *sloth_curl_load_problem(void);

static inline CURL *sloth_curl_easy_init(void) { return sloth_curl.easy_init(); }
static inline void sloth_curl_easy_cleanup(CURL *h) { sloth_curl.easy_cleanup(h); }
static inline void sloth_curl_easy_reset(CURL *h) { sloth_curl.easy_reset(h); }
static inline CURLcode sloth_curl_easy_perform(CURL *h) { return sloth_curl.easy_perform(h); }
static inline const char *sloth_curl_easy_strerror(CURLcode c) { return sloth_curl.easy_strerror(c); }
static inline struct curl_slist *sloth_curl_slist_append(struct curl_slist *l, const char *s) { return sloth_curl.slist_append(l, s); }
static inline void sloth_curl_slist_free_all(struct curl_slist *l) { sloth_curl.slist_free_all(l); }
static inline CURLcode sloth_curl_setopt_long(CURL *h, CURLoption o, long v) { return sloth_curl.easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return sloth_curl.easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return sloth_curl.easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return sloth_curl.easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_write(CURL *h, CURLoption o, sloth_curl_write_fn v) { return sloth_curl.easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return sloth_curl.easy_getinfo(h, i, v); }
static inline CURLcode sloth_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return sloth_curl.easy_getinfo(h, i, v); }
#endif
