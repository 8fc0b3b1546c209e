/* CCurl: libcurl's variadic curl_easy_setopt/getinfo as one typed function per argument kind. */
#ifndef SLOTH_CCURL_SHIM_H
#define SLOTH_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*sloth_curl_write_fn)(char *data, size_t size, size_t nmemb, void *userdata);

static inline CURLcode sloth_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_setopt_write(CURL *h, CURLoption o, sloth_curl_write_fn v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode sloth_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode sloth_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
#endif
