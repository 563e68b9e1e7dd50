// Two calls Node's fs lacks, for the commit log's page cache:
//   dropCache(fd, offset, length): Promise<void>
//     posix_fadvise(POSIX_FADV_DONTNEED) in the libuv thread pool. The kernel drops the clean
//     pages of the range (dirty ones are only queued for writeback), so callers fsync first.
//   cachedPages(fd, offset, length): number
//     how many pages of the range are in the page cache (mmap + mincore), for tests and checks.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) {                          \
      napi_throw_error(env, NULL, "napi call failed"); \
      return NULL;                                    \
    }                                                 \
  } while (0)

typedef struct {
  int fd;
  int64_t offset;
  int64_t length;
  int err;
  napi_deferred deferred;
  napi_async_work work;
} DropJob;

// Reads (fd, offset, length) from the arguments; throws and returns 0 when they are not
// a file descriptor and a non-negative range.
static int read_range(napi_env env, napi_callback_info info, int32_t* fd, int64_t* offset, int64_t* length) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "expected (fd, offset, length)");
    return 0;
  }
  napi_valuetype t;
  for (int i = 0; i < 3; i++) {
    if (napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number) {
      napi_throw_type_error(env, NULL, "expected (fd, offset, length) as numbers");
      return 0;
    }
  }
  napi_get_value_int32(env, argv[0], fd);
  napi_get_value_int64(env, argv[1], offset);
  napi_get_value_int64(env, argv[2], length);
  if (*fd < 0 || *offset < 0 || *length < 0) {
    napi_throw_range_error(env, NULL, "fd, offset and length must be non-negative");
    return 0;
  }
  return 1;
}

static napi_value errno_error(napi_env env, int err, const char* syscall) {
  napi_value code, msg, error;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  return error;
}

static void drop_execute(napi_env env, void* data) {
  (void)env;
  DropJob* job = data;
  job->err = posix_fadvise(job->fd, (off_t)job->offset, (off_t)job->length, POSIX_FADV_DONTNEED);
}

static void drop_complete(napi_env env, napi_status status, void* data) {
  DropJob* job = data;
  if (status == napi_ok && job->err == 0) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, job->deferred, undef);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, status == napi_ok ? job->err : ECANCELED, "posix_fadvise"));
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value drop_cache(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t offset, length;
  if (!read_range(env, info, &fd, &offset, &length)) return NULL;
  DropJob* job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, "ENOMEM", "dropCache: out of memory");
    return NULL;
  }
  job->fd = fd;
  job->offset = offset;
  job->length = length;
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "raftmq.dropCache", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, drop_execute, drop_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "dropCache: could not queue the work");
    return NULL;
  }
  return promise;
}

static napi_value cached_pages(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t offset, length;
  if (!read_range(env, info, &fd, &offset, &length)) return NULL;
  napi_value result;
  if (length == 0) {
    CHECK(napi_create_int64(env, 0, &result));
    return result;
  }
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = offset - offset % page;
  size_t span = (size_t)(offset + length - start);
  void* map = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, (off_t)start);
  if (map == MAP_FAILED) {
    napi_throw(env, errno_error(env, errno, "mmap"));
    return NULL;
  }
  size_t pages = (span + (size_t)page - 1) / (size_t)page;
  unsigned char* vec = malloc(pages);
  if (vec == NULL) {
    munmap(map, span);
    napi_throw_error(env, "ENOMEM", "cachedPages: out of memory");
    return NULL;
  }
  int rc = mincore(map, span, vec);
  int err = errno;
  munmap(map, span);
  if (rc != 0) {
    free(vec);
    napi_throw(env, errno_error(env, err, "mincore"));
    return NULL;
  }
  int64_t count = 0;
  for (size_t i = 0; i < pages; i++) count += vec[i] & 1;
  free(vec);
  CHECK(napi_create_int64(env, count, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "dropCache", NAPI_AUTO_LENGTH, drop_cache, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "dropCache", fn) != napi_ok ||
      napi_create_function(env, "cachedPages", NAPI_AUTO_LENGTH, cached_pages, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "cachedPages", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
