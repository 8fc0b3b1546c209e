/* CLua: the only C that slothd puts between Swift and liblua5.4.
 * Lua's function-like macros and variadics are re-exposed as static inline functions.
 * Swift enters Lua only through protected calls; Swift host functions return a status and
 * this file's trampoline (a C frame) raises, so no longjmp ever crosses a Swift frame. */
#ifndef SLOTH_CLUA_SHIM_H
#define SLOTH_CLUA_SHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>
#include <malloc.h>
#include <sys/mman.h>
#include <pthread.h>

/* Macros Swift cannot import. */
static inline int sloth_lua_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
static inline void sloth_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void sloth_lua_newtable(lua_State *L) { lua_newtable(L); }
static inline const char *sloth_lua_tostring(lua_State *L, int i) { return lua_tostring(L, i); }
static inline lua_Number sloth_lua_tonumber(lua_State *L, int i) { return lua_tonumber(L, i); }
static inline lua_Integer sloth_lua_tointeger(lua_State *L, int i) { return lua_tointeger(L, i); }
static inline void sloth_lua_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline int sloth_lua_registryindex(void) { return LUA_REGISTRYINDEX; }
/* Text chunks only: precompiled bytecode can crash the VM. */
static inline int sloth_luaL_loadbuffer(lua_State *L, const char *b, size_t n, const char *name) {
    return luaL_loadbufferx(L, b, n, name, "t");
}

/* Which Lua compiled the runtime's cached bytecode: the headers' release and the library's version. */
static inline const char *sloth_lua_release(void) { return LUA_RELEASE; }
static inline double sloth_lua_library_version(void) { return (double)lua_version(NULL); }

/* The runtime's own precompiled chunks, which slothd compiled itself (never workflow input). */
static inline int sloth_lua_load_trusted_bytecode(lua_State *L, const char *b, size_t n, const char *name) {
    return luaL_loadbufferx(L, b, n, name, "b");
}

/* The runtime's parts as bytecode, in memory the process keeps for its lifetime. */
typedef struct sloth_part { const char *name; const char *data; size_t size; } sloth_part;
typedef struct sloth_parts { size_t count; const sloth_part *parts; } sloth_parts;

/* Lua: load_part(name) -> the part's main function, undumped straight from the process's copy, so a
 * run makes no Lua string of bytecode it may never load. Only the runtime's bootstrap is given it. */
static int sloth_lua_load_part(lua_State *L) {
    const sloth_parts *all = (const sloth_parts *)lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);
    for (size_t i = 0; i < all->count; i++) {
        if (strcmp(all->parts[i].name, name) != 0) continue;
        const char *chunk = lua_pushfstring(L, "=runtime/%s.lua", name);
        if (luaL_loadbufferx(L, all->parts[i].data, all->parts[i].size, chunk, "b") != LUA_OK) return lua_error(L);
        return 1;
    }
    return luaL_error(L, "no runtime part '%s'", name);
}
static inline void sloth_lua_setpartloader(lua_State *L, const char *global, const sloth_parts *all) {
    lua_pushlightuserdata(L, (void *)all);
    lua_pushcclosure(L, sloth_lua_load_part, 1);
    lua_setglobal(L, global);
}

/* lua_dump of the function on top into a malloc'ed buffer the caller frees. */
typedef struct sloth_bytes { char *data; size_t size, capacity; } sloth_bytes;
static int sloth_bytes_writer(lua_State *L, const void *p, size_t n, void *ud) {
    (void)L;
    sloth_bytes *out = (sloth_bytes *)ud;
    if (out->size + n > out->capacity) {
        size_t capacity = out->capacity ? out->capacity : 4096;
        while (capacity < out->size + n) capacity *= 2;
        char *grown = realloc(out->data, capacity);
        if (grown == NULL) return 1;
        out->data = grown;
        out->capacity = capacity;
    }
    memcpy(out->data + out->size, p, n);
    out->size += n;
    return 0;
}
static inline int sloth_lua_dump_top(lua_State *L, sloth_bytes *out) { return lua_dump(L, sloth_bytes_writer, out, 1); }
static inline void sloth_bytes_free(sloth_bytes *bytes) { free(bytes->data); bytes->data = NULL; }

/* Per-state control block: memory accounting and cancellation.
 * While a Swift host function runs (in_swift > 0) the allocator over-commits and records
 * over_limit instead of failing, because a failing allocation would raise through Swift;
 * the trampoline raises "memory limit exceeded" once the Swift function has returned. */
/* Small blocks (most Lua objects) come from per-state size-class free lists carved out of slabs:
 * cheaper than malloc/free per object, and closing a state releases a few slabs instead of
 * returning every object to malloc. Larger blocks use malloc.
 * A state's first 1 MB of slabs (a trivial run needs about 300 KB) come from malloc; past that, slabs
 * of 1 MB are mapped on their own, so a state of hundreds of MB gives it all back when it closes.
 * From malloc, the freed slabs would stay with the thread's arena: up to 1 MB per arena now. */
#define SLOTH_SMALL_STEP 16
#define SLOTH_SMALL_CLASSES 16                 /* blocks up to 256 bytes */
#define SLOTH_SLAB_BYTES (64 * 1024)
#define SLOTH_HEAP_SLABS 16
#define SLOTH_MAPPED_SLAB_BYTES (1024 * 1024)
/* The header fills the first SLOTH_SMALL_STEP bytes. */
typedef struct sloth_slab { struct sloth_slab *next; size_t bytes; } sloth_slab;
typedef struct sloth_free_block { struct sloth_free_block *next; } sloth_free_block;

typedef struct sloth_lua_ctl {
    size_t used;
    size_t peak;
    size_t limit;
    int in_swift;
    int over_limit;
    atomic_int cancel;
    atomic_llong deadline_ms;   /* CLOCK_MONOTONIC milliseconds; 0 = none */
    sloth_free_block *free_lists[SLOTH_SMALL_CLASSES];
    sloth_slab *slabs;
    size_t slab_count;
    char *slab_cursor;
    char *slab_end;
} sloth_lua_ctl;

static inline int sloth_small_class(size_t size) {
    return size <= SLOTH_SMALL_STEP * SLOTH_SMALL_CLASSES ? (int)((size + SLOTH_SMALL_STEP - 1) / SLOTH_SMALL_STEP) - 1 : -1;
}

static void *sloth_small_take(sloth_lua_ctl *c, int class) {
    sloth_free_block *block = c->free_lists[class];
    if (block) { c->free_lists[class] = block->next; return block; }
    size_t bytes = (size_t)(class + 1) * SLOTH_SMALL_STEP;
    if (c->slab_cursor == NULL || c->slab_cursor + bytes > c->slab_end) {
        size_t size = c->slab_count < SLOTH_HEAP_SLABS ? SLOTH_SLAB_BYTES : SLOTH_MAPPED_SLAB_BYTES;
        sloth_slab *slab;
        if (size == SLOTH_SLAB_BYTES) {
            slab = (sloth_slab *)malloc(size);
            if (!slab) return NULL;
        } else {
            void *mapped = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (mapped == MAP_FAILED) return NULL;
            slab = (sloth_slab *)mapped;
        }
        slab->next = c->slabs;
        slab->bytes = size;
        c->slabs = slab;
        c->slab_count++;
        c->slab_cursor = (char *)slab + SLOTH_SMALL_STEP;
        c->slab_end = (char *)slab + size;
    }
    void *p = c->slab_cursor;
    c->slab_cursor += bytes;
    return p;
}

static void sloth_small_give(sloth_lua_ctl *c, int class, void *p) {
    sloth_free_block *block = (sloth_free_block *)p;
    block->next = c->free_lists[class];
    c->free_lists[class] = block;
}

static void sloth_slabs_free(sloth_lua_ctl *c) {
    while (c->slabs) {
        sloth_slab *slab = c->slabs;
        c->slabs = slab->next;
        if (slab->bytes == SLOTH_SLAB_BYTES) free(slab); else munmap(slab, slab->bytes);
    }
    c->slab_count = 0;
}

static inline long long sloth_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *sloth_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    sloth_lua_ctl *c = (sloth_lua_ctl *)ud;
    size_t old = ptr ? osize : 0;
    int old_class = ptr ? sloth_small_class(osize) : -1;
    if (nsize == 0) {
        if (old_class >= 0) sloth_small_give(c, old_class, ptr); else free(ptr);
        c->used -= old;
        return NULL;
    }
    if (c->limit && c->used - old + nsize > c->limit && nsize > old) {
        if (!c->in_swift) return NULL;
        c->over_limit = 1;
    }
    int new_class = sloth_small_class(nsize);
    void *p;
    if (ptr && old_class >= 0 && old_class == new_class) {
        p = ptr;
    } else if (old_class < 0 && new_class < 0) {
        p = realloc(ptr, nsize);
    } else {
        p = new_class >= 0 ? sloth_small_take(c, new_class) : malloc(nsize);
        if (p && ptr) {
            memcpy(p, ptr, old < nsize ? old : nsize);
            if (old_class >= 0) sloth_small_give(c, old_class, ptr); else free(ptr);
        }
    }
    if (p) {
        c->used = c->used - old + nsize;
        if (c->used > c->peak) c->peak = c->used;
    }
    return p;
}

static int sloth_lua_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "slothd: unprotected Lua error: %s\n", msg ? msg : "?");
    abort();
}

/* Count hook: cancellation and deadlines, checked from C while Lua bytecode runs, so that even
 * `while true do end` ends. Coroutines inherit the hook from the thread that creates them. Once it
 * fires, the thread's hook runs at every instruction, so the error is raised again right after any
 * pcall that caught it: workflow code cannot swallow a cancellation or a timeout. */
static void sloth_lua_cancel_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    void *ud; lua_getallocf(L, &ud);
    sloth_lua_ctl *c = (sloth_lua_ctl *)ud;
    const char *reason = NULL;
    if (atomic_load(&c->cancel)) reason = "run cancelled";
    else {
        /* Deadlines belong to the fibers (coroutines); the runtime's own loop on the main thread
         * sets them before resuming one and must not be the one that times out. */
        long long deadline = atomic_load(&c->deadline_ms);
        if (deadline && sloth_monotonic_ms() >= deadline) {
            int on_main = lua_pushthread(L);
            lua_pop(L, 1);
            if (!on_main) reason = "timed out";
        }
    }
    if (reason == NULL) return;
    lua_sethook(L, sloth_lua_cancel_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", reason);
}

/* Lua's large blocks (a big table's array, a long string) come from malloc. glibc raises its mmap
 * threshold each time such a block is freed (up to 32 MB); the next state's big blocks then come
 * from the heap, and some of them stay there. A fixed threshold keeps them mapped. */
static pthread_once_t sloth_malloc_tuned = PTHREAD_ONCE_INIT;
static void sloth_malloc_tune(void) { mallopt(M_MMAP_THRESHOLD, 256 * 1024); }

static inline lua_State *sloth_lua_newstate(size_t limit, int hook_every) {
    pthread_once(&sloth_malloc_tuned, sloth_malloc_tune);
    sloth_lua_ctl *c = (sloth_lua_ctl *)calloc(1, sizeof *c);
    if (!c) return NULL;
    c->limit = limit;
    lua_State *L = lua_newstate(sloth_lua_alloc, c);
    if (!L) { sloth_slabs_free(c); free(c); return NULL; }
    lua_atpanic(L, sloth_lua_panic);
    if (hook_every > 0) lua_sethook(L, sloth_lua_cancel_hook, LUA_MASKCOUNT, hook_every);
    return L;
}
static inline sloth_lua_ctl *sloth_lua_getctl(lua_State *L) { void *ud; lua_getallocf(L, &ud); return (sloth_lua_ctl *)ud; }
static inline void sloth_lua_cancel(sloth_lua_ctl *c) { atomic_store(&c->cancel, 1); }
static inline void sloth_lua_set_deadline(lua_State *L, long long ms) { atomic_store(&sloth_lua_getctl(L)->deadline_ms, ms); }
static inline long long sloth_lua_deadline(lua_State *L) { return atomic_load(&sloth_lua_getctl(L)->deadline_ms); }
static inline size_t sloth_lua_memused(lua_State *L) { return sloth_lua_getctl(L)->used; }
static inline size_t sloth_lua_mempeak(lua_State *L) { return sloth_lua_getctl(L)->peak; }
/* Closes the state and frees its slabs; the control block stays until sloth_lua_ctl_free, since a
 * cancelling thread may still hold it. Pending finalizers run with the cancel flag set, so one that
 * loops for ever is stopped by the hook. */
static inline void sloth_lua_close(lua_State *L) {
    sloth_lua_ctl *c = sloth_lua_getctl(L);
    atomic_store(&c->cancel, 1);
    lua_close(L);
    sloth_slabs_free(c);
    for (int i = 0; i < SLOTH_SMALL_CLASSES; i++) c->free_lists[i] = NULL;
    c->slab_cursor = c->slab_end = NULL;
}
static inline void sloth_lua_ctl_free(sloth_lua_ctl *c) { free(c); }
/* Hands freed heap pages back to the system (after a run that used a lot of memory). */
static inline void sloth_release_free_memory(void) { malloc_trim(0); }

/* luaL_openlibs can raise LUA_ERRMEM, so it runs under pcall. */
static int sloth_lua_openlibs_k(lua_State *L) { luaL_openlibs(L); return 0; }
static inline int sloth_lua_openlibs(lua_State *L) {
    lua_pushcfunction(L, sloth_lua_openlibs_k);
    return lua_pcall(L, 0, 0, 0);
}

/* Swift host functions: return n >= 0 results, or SLOTH_LUA_RAISE with the error value on top
 * of the stack; the trampoline then raises from C. */
#define SLOTH_LUA_RAISE (-1)
typedef int (*sloth_lua_swift_fn)(lua_State *L, void *context);

static int sloth_lua_trampoline_body(lua_State *L, sloth_lua_swift_fn fn, void *ctx) {
    sloth_lua_ctl *c = sloth_lua_getctl(L);
    if (!lua_checkstack(L, 32)) return luaL_error(L, "stack overflow");
    c->in_swift++;
    int n = fn(L, ctx);
    c->in_swift--;
    if (c->over_limit && c->in_swift == 0) {
        c->over_limit = 0;
        lua_settop(L, 0);
        lua_gc(L, LUA_GCCOLLECT, 0);
        lua_pushliteral(L, "memory limit exceeded");
        return lua_error(L);
    }
    if (n < 0) {
        /* Give string errors the caller's file:line, as luaL_error would. */
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return n;
}

static int sloth_lua_trampoline(lua_State *L) {
    sloth_lua_swift_fn fn = (sloth_lua_swift_fn)lua_touserdata(L, lua_upvalueindex(1));
    void *ctx = lua_touserdata(L, lua_upvalueindex(2));
    return sloth_lua_trampoline_body(L, fn, ctx);
}

static inline void sloth_lua_pushswiftfunction(lua_State *L, sloth_lua_swift_fn fn, void *context) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushlightuserdata(L, context);
    lua_pushcclosure(L, sloth_lua_trampoline, 2);
}

/* A protected frame for Swift code that pushes values (globals, arguments, registry entries): `fn`
 * runs like a host function (memory over-committed while it runs) with the caller's top `nargs`
 * values as its stack; its results are left on the caller's stack, and running out of memory is an
 * error status, never a panic. */
static int sloth_lua_host_frame_k(lua_State *L) {
    sloth_lua_swift_fn fn = (sloth_lua_swift_fn)lua_touserdata(L, 1);
    void *ctx = lua_touserdata(L, 2);
    lua_remove(L, 1);
    lua_remove(L, 1);
    return sloth_lua_trampoline_body(L, fn, ctx);
}
static inline int sloth_lua_host_frame(lua_State *L, sloth_lua_swift_fn fn, void *context, int nargs) {
    if (!lua_checkstack(L, 4)) return LUA_ERRMEM;
    lua_pushcfunction(L, sloth_lua_host_frame_k);
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushlightuserdata(L, context);
    lua_rotate(L, -(nargs + 3), 3);
    return lua_pcall(L, nargs + 2, LUA_MULTRET, 0);
}

/* Message handler that appends a traceback. */
static int sloth_lua_traceback_k(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}
static inline void sloth_lua_pushtraceback(lua_State *L) { lua_pushcfunction(L, sloth_lua_traceback_k); }

#endif
