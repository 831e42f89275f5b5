#include "ZipReader.h"

#include <QCoreApplication>

#include <zlib.h>

namespace viv {

namespace {
quint32 u16(const QByteArray &a, qsizetype at)
{
    return quint32(quint8(a[at])) | quint32(quint8(a[at + 1])) << 8;
}
quint32 u32(const QByteArray &a, qsizetype at)
{
    return u16(a, at) | u16(a, at + 2) << 16;
}

bool inflateRaw(const QByteArray &in, qsizetype size, QByteArray &out)
{
    out.resize(size);
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return false;
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.constData()));
    z.avail_in = uInt(in.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = uInt(size);
    const int rc = inflate(&z, Z_FINISH);
    const bool ok = rc == Z_STREAM_END && z.total_out == uLong(size);
    inflateEnd(&z);
    return ok;
}
} // namespace

QList<ZipEntry> readZip(const QByteArray &a, QString *error)
{
    error->clear();
    QList<ZipEntry> out;
    // The end of central directory record: the last signature within the final 64 KiB + 22.
    qsizetype eocd = -1;
    for (qsizetype i = a.size() - 22; i >= 0 && i >= a.size() - 22 - 65535; --i) {
        if (u32(a, i) == 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) {
        *error = QCoreApplication::translate("viv::ZipReader", "The file is not a zip archive.");
        return {};
    }
    const quint32 count = u16(a, eocd + 10);
    qsizetype at = u32(a, eocd + 16);
    for (quint32 n = 0; n < count; ++n) {
        if (at + 46 > a.size() || u32(a, at) != 0x02014b50) {
            *error = QCoreApplication::translate("viv::ZipReader", "The zip archive is damaged (its directory is incomplete).");
            return {};
        }
        const quint32 method = u16(a, at + 10);
        const quint32 crc = u32(a, at + 16);
        const qsizetype packed = u32(a, at + 20);
        const qsizetype size = u32(a, at + 24);
        const qsizetype nameLen = u16(a, at + 28);
        const qsizetype skip = nameLen + u16(a, at + 30) + u16(a, at + 32);
        const qsizetype local = u32(a, at + 42);
        const QString name = QString::fromUtf8(a.mid(at + 46, nameLen));
        at += 46 + skip;
        if (name.endsWith(u'/') || name.startsWith(u"__MACOSX/"))
            continue;
        if (local + 30 > a.size() || u32(a, local) != 0x04034b50) {
            *error = QCoreApplication::translate("viv::ZipReader", "The zip archive is damaged (entry %1).").arg(name);
            return {};
        }
        const qsizetype data = local + 30 + u16(a, local + 26) + u16(a, local + 28);
        if (data + packed > a.size()) {
            *error = QCoreApplication::translate("viv::ZipReader", "The zip archive is damaged (entry %1).").arg(name);
            return {};
        }
        const QByteArray raw = a.mid(data, packed);
        ZipEntry e{name, {}};
        if (method == 0 && packed == size) {
            e.bytes = raw;
        } else if (method == 8) {
            if (!inflateRaw(raw, size, e.bytes)) {
                *error = QCoreApplication::translate("viv::ZipReader", "The zip archive is damaged (entry %1).").arg(name);
                return {};
            }
        } else {
            *error = QCoreApplication::translate("viv::ZipReader", "The zip entry %1 uses a compression method this app cannot read.").arg(name);
            return {};
        }
        if (quint32(crc32(0, reinterpret_cast<const Bytef *>(e.bytes.constData()), uInt(e.bytes.size()))) != crc) {
            *error = QCoreApplication::translate("viv::ZipReader", "The zip archive is damaged (entry %1).").arg(name);
            return {};
        }
        out.append(std::move(e));
    }
    return out;
}

} // namespace viv
