// Two calls Node's fs lacks, for the commit log's page cache:
//   dropCache(fd, offset, length): Promise<void>
//     posix_fadvise(POSIX_FADV_DONTNEED) in the libuv thread pool. The kernel drops the clean
//     pages of the range (dirty ones are only queued for writeback), so callers fsync first.
//   cachedPages(fd, offset, length): number
//     how many pages of the range are in the page cache (mmap + mincore), for tests and checks.
//   isCached(fd, offset): boolean
//     whether the byte at `offset` reads without waiting for the disk: a 1-byte preadv2 with
//     RWF_NOWAIT, which fails with EAGAIN instead of reading from the disk. Cheap enough to ask
//     before every read; a mmap + mincore costs more and its munmap disturbs the other threads.
//   readThrough(fd, offset, length): Promise<number>
//     reads the range in the thread pool into a buffer of the worker's and throws the bytes away,
//     so that a synchronous read of it afterwards finds it cached. Resolves with the bytes read
//     (fewer at the end of the file). It reads through a duplicate of `fd`: the caller may close
//     its own descriptor at once.
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
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) {                          \
      napi_throw_error(env, NULL, "napi call failed"); \
      return NULL;                                    \
    }                                                 \
  } while (0)

// One job in the thread pool: a range of a file, and the outcome.
typedef struct {
  int fd;
  int64_t offset;
  int64_t length;
  int err;
  // what a failure names, and whether the promise resolves with `length` (else undefined)
  const char* syscall;
  int resolves_length;
  napi_deferred deferred;
  napi_async_work work;
} RangeJob;

// Reads (fd, offset) and, when `count` is 3, length from the arguments; throws and returns 0
// when they are not a file descriptor and a non-negative range.
static int read_args(napi_env env, napi_callback_info info, size_t count, int32_t* fd, int64_t* offset, int64_t* length) {
  const char* shape = count == 3 ? "(fd, offset, length)" : "(fd, offset)";
  char text[64];
  size_t argc = count;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < count) {
    snprintf(text, sizeof text, "expected %s", shape);
    napi_throw_type_error(env, NULL, text);
    return 0;
  }
  napi_valuetype t;
  for (size_t i = 0; i < count; i++) {
    if (napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number) {
      snprintf(text, sizeof text, "expected %s as numbers", shape);
      napi_throw_type_error(env, NULL, text);
      return 0;
    }
  }
  napi_get_value_int32(env, argv[0], fd);
  napi_get_value_int64(env, argv[1], offset);
  if (count == 3) napi_get_value_int64(env, argv[2], length);
  if (*fd < 0 || *offset < 0 || (count == 3 && *length < 0)) {
    napi_throw_range_error(env, NULL, count == 3 ? "fd, offset and length must be non-negative" : "fd and offset must be non-negative");
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
  RangeJob* job = data;
  job->err = posix_fadvise(job->fd, (off_t)job->offset, (off_t)job->length, POSIX_FADV_DONTNEED);
}

static void range_complete(napi_env env, napi_status status, void* data) {
  RangeJob* job = data;
  if (status == napi_ok && job->err == 0) {
    napi_value value;
    if (job->resolves_length) napi_create_int64(env, job->length, &value);
    else napi_get_undefined(env, &value);
    napi_resolve_deferred(env, job->deferred, value);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, status == napi_ok ? job->err : ECANCELED, job->syscall));
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value cached_pages(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t offset, length;
  if (!read_args(env, info, 3, &fd, &offset, &length)) return NULL;
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

static napi_value is_cached(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t offset, unused = 0;
  if (!read_args(env, info, 2, &fd, &offset, &unused)) return NULL;
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  ssize_t n = preadv2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
  if (n < 0 && errno != EAGAIN) {
    napi_throw(env, errno_error(env, errno, "preadv2"));
    return NULL;
  }
  napi_value result;
  CHECK(napi_get_boolean(env, n >= 0, &result));
  return result;
}

/** Bytes one readThrough job reads per pread (its buffer's size). */
#define READ_THROUGH_CHUNK (256 * 1024)

static void read_through_execute(napi_env env, void* data) {
  (void)env;
  RangeJob* job = data;
  // one buffer per pool thread, kept: a fresh one each time would cost page faults for every read
  static __thread char* buf = NULL;
  if (buf == NULL) buf = malloc(READ_THROUGH_CHUNK);
  if (buf == NULL) {
    close(job->fd);
    job->err = ENOMEM;
    return;
  }
  int64_t done = 0;
  while (done < job->length) {
    int64_t want = job->length - done;
    if (want > READ_THROUGH_CHUNK) want = READ_THROUGH_CHUNK;
    ssize_t n = pread(job->fd, buf, (size_t)want, (off_t)(job->offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      job->err = errno;
      break;
    }
    if (n == 0) break;
    done += n;
  }
  close(job->fd);
  job->length = done;
}

// Queues `execute` on (fd, offset, length) from the arguments and returns its promise. `what`
// names the call in errors (and its async resource, raftmq.<what>). Bad arguments throw; what
// fails after them rejects the promise. With `dup_fd` the job works on a duplicate of the
// caller's descriptor (closed by the job), so the caller may close or reuse its own meanwhile.
static napi_value queue_range_job(napi_env env, napi_callback_info info, const char* what, const char* syscall, int resolves_length,
                                  int dup_fd, napi_async_execute_callback execute) {
  int32_t fd;
  int64_t offset, length;
  if (!read_args(env, info, 3, &fd, &offset, &length)) return NULL;
  napi_deferred deferred;
  napi_value promise, name;
  CHECK(napi_create_promise(env, &deferred, &promise));
  int own = dup_fd ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : fd;
  if (own < 0) {
    napi_reject_deferred(env, deferred, errno_error(env, errno, what));
    return promise;
  }
  RangeJob* job = calloc(1, sizeof *job);
  if (job == NULL) {
    if (dup_fd) close(own);
    napi_reject_deferred(env, deferred, errno_error(env, ENOMEM, what));
    return promise;
  }
  job->fd = own;
  job->offset = offset;
  job->length = length;
  job->syscall = syscall;
  job->resolves_length = resolves_length;
  job->deferred = deferred;
  char resource[64];
  snprintf(resource, sizeof resource, "raftmq.%s", what);
  if (napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, range_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    if (dup_fd) close(own);
    free(job);
    napi_reject_deferred(env, deferred, errno_error(env, ECANCELED, what));
  }
  return promise;
}

static napi_value drop_cache(napi_env env, napi_callback_info info) {
  return queue_range_job(env, info, "dropCache", "posix_fadvise", 0, 0, drop_execute);
}

static napi_value read_through(napi_env env, napi_callback_info info) {
  return queue_range_job(env, info, "readThrough", "pread", 1, 1, read_through_execute);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "dropCache", NAPI_AUTO_LENGTH, drop_cache, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "dropCache", fn) != napi_ok ||
      napi_create_function(env, "cachedPages", NAPI_AUTO_LENGTH, cached_pages, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "cachedPages", fn) != napi_ok ||
      napi_create_function(env, "isCached", NAPI_AUTO_LENGTH, is_cached, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "isCached", fn) != napi_ok ||
      napi_create_function(env, "readThrough", NAPI_AUTO_LENGTH, read_through, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "readThrough", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
