#include "SaveImage.h"

#include <QFile>

#include <cerrno>
#include <cstdint>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace viv::saveimage {

namespace {

constexpr char kMagic[] = "LibvirtQemudSave"; // "LibvirtQemudPart": a save that did not finish
constexpr qsizetype kMagicLen = 16;
constexpr quint32 kVersion = 2;
constexpr qsizetype kFixedLen = kMagicLen + 19 * 4; // magic, 5 fields, 14 unused words
constexpr qint64 kMaxDataLen = 16 * 1024 * 1024;

quint32 word(const QByteArray &b, int index)
{
    quint32 v;
    std::memcpy(&v, b.constData() + kMagicLen + index * 4, 4);
    return v; // libvirt writes the header in host byte order
}

void setWord(QByteArray &b, int index, quint32 v)
{
    std::memcpy(b.data() + kMagicLen + index * 4, &v, 4);
}

bool writeAll(int fd, const char *p, size_t n)
{
    while (n) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

} // namespace

Result<Header> readHeader(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return ApiError::internal(QStringLiteral("cannot read the save image %1: %2").arg(path, f.errorString()));
    const QByteArray fixed = f.read(kFixedLen);
    if (fixed.size() != kFixedLen || !fixed.startsWith(QByteArray(kMagic, kMagicLen)))
        return ApiError::internal(QStringLiteral("%1 is not a complete libvirt QEMU save image").arg(path));
    // Fields: version, data_len, was_running, compressed, cookieOffset.
    if (word(fixed, 0) != kVersion)
        return ApiError::internal(QStringLiteral("%1: save image version %2, expected %3").arg(path).arg(word(fixed, 0)).arg(kVersion));
    if (word(fixed, 3) != 0)
        return ApiError::internal(QStringLiteral("%1: a compressed save image").arg(path));
    Header h;
    h.dataLen = word(fixed, 1);
    const qint64 cookieOffset = word(fixed, 4);
    if (h.dataLen <= 0 || h.dataLen > kMaxDataLen || cookieOffset > h.dataLen)
        return ApiError::internal(QStringLiteral("%1: a malformed save image header").arg(path));
    const QByteArray data = f.read(h.dataLen);
    if (data.size() != h.dataLen)
        return ApiError::internal(QStringLiteral("%1: the save image is truncated").arg(path));
    const qsizetype xmlEnd = data.indexOf('\0');
    if (xmlEnd <= 0 || (cookieOffset && cookieOffset != xmlEnd + 1))
        return ApiError::internal(QStringLiteral("%1: a malformed save image header").arg(path));
    h.xml = data.left(xmlEnd);
    if (cookieOffset) {
        const qsizetype cookieEnd = data.indexOf('\0', cookieOffset);
        h.cookie = data.mid(cookieOffset, (cookieEnd < 0 ? data.size() : cookieEnd) - cookieOffset);
    }
    h.streamOffset = kFixedLen + h.dataLen;
    return h;
}

Result<QByteArray> rewrittenHeader(const Header &header, const QByteArray &xml)
{
    if (xml.contains('\0'))
        return ApiError::internal(QStringLiteral("the domain XML contains a NUL byte"));
    const qint64 needed = xml.size() + 1 + (header.cookie.isEmpty() ? 0 : header.cookie.size() + 1);
    if (needed > header.dataLen)
        return ApiError::internal(QStringLiteral("the domain XML does not fit the save image header (%1 > %2 bytes)")
                                      .arg(needed)
                                      .arg(header.dataLen));
    QByteArray out(kFixedLen + header.dataLen, '\0');
    std::memcpy(out.data(), kMagic, kMagicLen);
    setWord(out, 0, kVersion);
    setWord(out, 1, quint32(header.dataLen));
    setWord(out, 2, 1); // was running
    setWord(out, 3, 0); // raw
    setWord(out, 4, header.cookie.isEmpty() ? 0 : quint32(xml.size() + 1));
    std::memcpy(out.data() + kFixedLen, xml.constData(), size_t(xml.size()));
    if (!header.cookie.isEmpty())
        std::memcpy(out.data() + kFixedLen + xml.size() + 1, header.cookie.constData(), size_t(header.cookie.size()));
    return out;
}

Status restoreWithXml(const QString &path, const QByteArray &xml, const QString &fifoPath,
                      const std::function<Status(const QString &)> &restore)
{
    auto header = readHeader(path);
    if (!header)
        return header.error();
    auto head = rewrittenHeader(*header, xml);
    if (!head)
        return head.error();
    const int in = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ApiError::internal(QStringLiteral("cannot open %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    const QByteArray fifo = QFile::encodeName(fifoPath);
    ::unlink(fifo.constData());
    if (::mkfifo(fifo.constData(), 0600) != 0) {
        const int e = errno;
        ::close(in);
        return ApiError::internal(QStringLiteral("cannot create the FIFO %1: %2").arg(fifoPath, QString::fromLocal8Bit(std::strerror(e))));
    }
    const qint64 streamOffset = header->streamOffset;
    const QByteArray headBytes = *head;
    int writeError = 0;
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        // libvirt closing its end early (a refused restore) must fail a write, not kill us.
        sigset_t pipeSignal;
        sigemptyset(&pipeSignal);
        sigaddset(&pipeSignal, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nullptr);
        // Wait for libvirt to open the read end, but not for ever: a blocking open() would hang
        // if libvirt failed before opening it (no reader ever comes), and opening the read end
        // ourselves to release it races with this open (a reader that came and went before it
        // does not count). So: non-blocking attempts until a reader is there or the restore ended.
        int out = -1;
        while (!stop.load()) {
            out = ::open(fifo.constData(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (out >= 0 || (errno != ENXIO && errno != EINTR))
                break;
            ::usleep(1000);
        }
        if (out < 0) {
            writeError = stop.load() ? 0 : errno;
            return;
        }
        ::fcntl(out, F_SETFL, ::fcntl(out, F_GETFL) & ~O_NONBLOCK); // the writes wait for QEMU
        bool ok = writeAll(out, headBytes.constData(), size_t(headBytes.size()));
        static constexpr size_t kChunk = 1 << 20;
        std::unique_ptr<char[]> buf(new char[kChunk]);
        off_t at = off_t(streamOffset);
        while (ok) {
            const ssize_t n = ::pread(in, buf.get(), kChunk, at);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                writeError = errno;
                ok = false;
            }
            if (n <= 0)
                break;
            ok = writeAll(out, buf.get(), size_t(n));
            at += n;
        }
        if (!ok && !writeError)
            writeError = errno;
        ::close(out);
        timespec zero{};
        while (sigtimedwait(&pipeSignal, nullptr, &zero) > 0) {
        }
    });
    Status result = restore(fifoPath);
    stop = true; // a writer still waiting for a reader gives up; one writing sees EPIPE or is done
    writer.join();
    ::close(in);
    ::unlink(fifo.constData());
    // QEMU checks its stream: a restore that succeeded read all of it, whatever the writer's
    // last write said; a failed one is reported with the writer's reason when it has one.
    if (!result && writeError && writeError != EPIPE)
        return ApiError::internal(QStringLiteral("%1 (reading the save image: %2)")
                                      .arg(result.error().message(), QString::fromLocal8Bit(std::strerror(writeError))));
    return result;
}

} // namespace viv::saveimage
