/* Loads libcurl once, on the first HTTP request (see include/shim.h). */
#include "shim.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct sloth_curl_api sloth_curl;
static pthread_once_t sloth_curl_once = PTHREAD_ONCE_INIT;
static char sloth_curl_problem[256] = "";

static void sloth_curl_load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(sloth_curl_problem, sizeof sloth_curl_problem, "cannot load libcurl (install libcurl4): %s", dlerror());
        return;
    }
#define SLOTH_CURL_SYMBOL(field, name) \
    if (!(*(void **)&sloth_curl.field = dlsym(library, name))) { \
        snprintf(sloth_curl_problem, sizeof sloth_curl_problem, "libcurl lacks %s", name); \
        return; \
    }
    SLOTH_CURL_SYMBOL(global_init, "curl_global_init")
    SLOTH_CURL_SYMBOL(easy_init, "curl_easy_init")
    SLOTH_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup")
    SLOTH_CURL_SYMBOL(easy_reset, "curl_easy_reset")
    SLOTH_CURL_SYMBOL(easy_perform, "curl_easy_perform")
    SLOTH_CURL_SYMBOL(easy_strerror, "curl_easy_strerror")
    SLOTH_CURL_SYMBOL(easy_setopt, "curl_easy_setopt")
    SLOTH_CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo")
    SLOTH_CURL_SYMBOL(slist_append, "curl_slist_append")
    SLOTH_CURL_SYMBOL(slist_free_all, "curl_slist_free_all")
#undef SLOTH_CURL_SYMBOL
    if (sloth_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        snprintf(sloth_curl_problem, sizeof sloth_curl_problem, "libcurl failed to initialise");
}

const char *sloth_curl_load_problem(void) {
    pthread_once(&sloth_curl_once, sloth_curl_load);
    return sloth_curl_problem[0] ? sloth_curl_problem : NULL;
}
