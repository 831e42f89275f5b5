/* Vivarium guest agent: the file ops (read, write, list, stat, mkdir, remove) and reseed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_ops.h"
#include "agent_port.h"
#include "agent_request.h"

#define MAX_READ (64LL * 1024 * 1024) /* the most one `read` returns */

/* ---- ops: files ------------------------------------------------------------------------ */
static void put_entry(buf_t *b, const char *path, const char *name, const struct stat *s)
{
    const char *kind = S_ISDIR(s->st_mode) ? "dir" : S_ISREG(s->st_mode) ? "file"
                       : S_ISLNK(s->st_mode) ? "symlink" : "other";
    buf_adds(b, "{\"name\":");
    jput_cstr(b, name);
    buf_adds(b, ",\"path\":");
    jput_cstr(b, path);
    buf_adds(b, ",\"type\":\"");
    buf_adds(b, kind);
    buf_printf(b, "\",\"size\":%lld,\"mode\":%u,\"mtime\":", (long long)s->st_size, (unsigned)(s->st_mode & 07777));
    double mt = (double)s->st_mtim.tv_sec + (double)s->st_mtim.tv_nsec / 1e9;
    buf_printf(b, "%.17g", mt);
    buf_addc(b, '}');
}

void op_read(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    double off_d, lim_d;
    if (want_num(rid, req, "offset", 0, &off_d) < 0 || want_num(rid, req, "limit", (double)DEFAULT_MAX_OUTPUT, &lim_d) < 0)
        return;
    long long offset = clamp_ll(off_d), limit = clamp_ll(lim_d);
    if (offset < 0) {
        send_error(rid, "ValueError: negative seek value", 0);
        return;
    }
    if (limit < 0 || limit > MAX_READ)
        limit = MAX_READ; /* Python reads everything for a negative limit; bounded here */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    struct stat st;
    int bad = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (bad) {
        int e = bad;
        close(fd);
        send_oserror(rid, e, path);
        return;
    }
    buf_t data = {0};
    size_t want = (size_t)limit;
    if (S_ISREG(st.st_mode) && st.st_size > offset && (long long)want > st.st_size - offset)
        want = (size_t)(st.st_size - offset); /* a first guess: the file may still grow */
    while ((long long)data.n < limit) {
        size_t chunk = want > data.n ? want - data.n : 65536;
        if ((long long)(data.n + chunk) > limit)
            chunk = (size_t)(limit - (long long)data.n);
        buf_reserve(&data, chunk);
        ssize_t n = pread(fd, data.p + data.n, chunk, (off_t)(offset + (long long)data.n));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            buf_free(&data);
            send_oserror(rid, e, path);
            return;
        }
        if (n == 0)
            break;
        data.n += (size_t)n;
    }
    close(fd);
    msg_begin(rid, "result");
    msg_key("data");
    buf_addc(&out_msg, '"');
    b64_encode(&out_msg, (const unsigned char *)data.p, data.n);
    buf_addc(&out_msg, '"');
    msg_key("size");
    buf_printf(&out_msg, "%lld", (long long)st.st_size);
    msg_key("eof");
    buf_adds(&out_msg, offset + (long long)data.n >= (long long)st.st_size ? "true" : "false");
    buf_free(&data);
    msg_end();
}

/* os.makedirs(path, exist_ok=True); on failure errno is set and `failed` names the path. */
static int makedirs(const char *path, char *failed, size_t failsz)
{
    size_t n = strlen(path);
    if (n == 0 || n >= PATH_MAX) {
        errno = n ? ENAMETOOLONG : ENOENT;
        snprintf(failed, failsz, "%s", path);
        return -1;
    }
    char tmp[PATH_MAX];
    memcpy(tmp, path, n + 1);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = 0;
    for (char *p = tmp + 1;; ++p) {
        int last = *p == 0;
        if (*p == '/' || last) {
            char save = *p;
            *p = 0;
            if (mkdir(tmp, 0777) < 0 && errno != EEXIST) {
                snprintf(failed, failsz, "%s", tmp);
                return -1;
            }
            if (last) {
                struct stat st;
                if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode)) {
                    errno = EEXIST; /* Python: FileExistsError */
                    snprintf(failed, failsz, "%s", tmp);
                    return -1;
                }
                return 0;
            }
            *p = save;
            while (p[1] == '/')
                ++p;
        }
    }
}

void op_write(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    long long len;
    char *data = want_b64(rid, req, "data", &len);
    if (len < 0)
        return;
    jnode *mk = jget(req, "mkdirs");
    double mode_d;
    if (want_num(rid, req, "mode", 0644, &mode_d) < 0)
        return;
    char failed[PATH_MAX];
    if (!mk || jtruthy(mk)) {
        const char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            char parent[PATH_MAX];
            size_t pl = (size_t)(slash - path);
            if (pl >= sizeof parent) {
                send_oserror(rid, ENAMETOOLONG, path);
                return;
            }
            memcpy(parent, path, pl);
            parent[pl] = 0;
            if (makedirs(parent, failed, sizeof failed) < 0) {
                send_oserror(rid, errno, failed);
                return;
            }
        }
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
                (jtruthy(jget(req, "append")) ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, (mode_t)((long long)mode_d & 07777));
    if (fd < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    size_t off = 0;
    while (off < (size_t)len) {
        ssize_t n = write(fd, data + off, (size_t)len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            send_oserror(rid, e, path);
            return;
        }
        off += (size_t)n;
    }
    if (close(fd) < 0 && errno != EINTR) {
        send_oserror(rid, errno, path);
        return;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    msg_begin(rid, "result");
    msg_key("size");
    buf_printf(&out_msg, "%lld", (long long)st.st_size);
    msg_end();
}

void op_stat(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    struct stat st;
    if (lstat(path, &st) < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name)
        name = path;
    msg_begin(rid, "result");
    msg_key("entry");
    put_entry(&out_msg, path, name, &st);
    msg_end();
}

typedef struct {
    char *name;
    struct stat st;
} dent;
static int dent_cmp(const void *a, const void *b) { return strcmp(((const dent *)a)->name, ((const dent *)b)->name); }

void op_list(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    DIR *d = opendir(path);
    if (!d) {
        send_oserror(rid, errno, path);
        return;
    }
    dent *ents = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ents = xrealloc(ents, cap * sizeof *ents);
        }
        ents[n].name = xstrndup(e->d_name, strlen(e->d_name));
        ents[n].st = st;
        ++n;
    }
    closedir(d);
    if (n)
        qsort(ents, n, sizeof *ents, dent_cmp);
    size_t pl = strlen(path);
    int sep = pl > 0 && path[pl - 1] != '/';
    buf_t full = {0};
    msg_begin(rid, "result");
    msg_key("entries");
    buf_addc(&out_msg, '[');
    for (size_t i = 0; i < n; ++i) {
        if (i)
            buf_addc(&out_msg, ',');
        full.n = 0;
        buf_add(&full, path, pl);
        if (sep)
            buf_addc(&full, '/');
        buf_adds(&full, ents[i].name);
        buf_addc(&full, 0);
        put_entry(&out_msg, full.p, ents[i].name, &ents[i].st);
        free(ents[i].name);
    }
    buf_addc(&out_msg, ']');
    free(ents);
    buf_free(&full);
    msg_end();
}

void op_mkdir(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    char failed[PATH_MAX];
    if (makedirs(path, failed, sizeof failed) < 0) {
        send_oserror(rid, errno, failed);
        return;
    }
    send_ok(rid, 1);
}

void op_reseed(const char *rid, jnode *req)
{
    long long len = 0;
    char *data = want_b64(rid, req, "data", &len);
    if (!data && len == 0)
        send_error(rid, "reseed wants `data`", 0);
    if (!data)
        return;
    if (len < 32 || len > 512) {
        send_error(rid, "reseed wants 32 to 512 bytes", 0);
        return;
    }
    struct rand_pool_info *info = xrealloc(NULL, sizeof *info + (size_t)len);
    info->entropy_count = (int)(len * 8);
    info->buf_size = (int)len;
    memcpy(info->buf, data, (size_t)len);
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    int err = 0;
    if (fd < 0 || ioctl(fd, RNDADDENTROPY, info) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    memset(info->buf, 0, (size_t)len);
    free(info);
    if (err) {
        send_oserror(rid, err, "/dev/urandom");
        return;
    }
    send_ok(rid, 1);
}

static int rm_err;
static char rm_path[PATH_MAX];
static int rm_one(const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    int r;
    if (flag == FTW_DNR || flag == FTW_NS) {
        errno = flag == FTW_DNR ? EACCES : ENOENT;
        r = -1;
    } else {
        r = flag == FTW_DP ? rmdir(fpath) : unlink(fpath);
    }
    if (r < 0) {
        rm_err = errno;
        snprintf(rm_path, sizeof rm_path, "%s", fpath);
        return 1; /* stop the walk */
    }
    return 0;
}

void op_remove(const char *rid, jnode *req)
{
    const char *path = want_cstr(rid, req, "path", 1);
    if (!path)
        return;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rm_err = 0;
        int r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
        if (r != 0) {
            if (rm_err)
                send_oserror(rid, rm_err, rm_path);
            else
                send_oserror(rid, errno, path);
            return;
        }
    } else if (unlink(path) < 0) {
        send_oserror(rid, errno, path);
        return;
    }
    send_ok(rid, 1);
}
