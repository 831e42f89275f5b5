#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace viv {

// Reads the files of a zip archive (stored or deflated entries, CRC-checked; directories and macOS
// "__MACOSX/" metadata skipped) for a skill upload from the desktop app. `error` gets why the
// archive cannot be read (empty on success).
struct ZipEntry
{
    QString path; // as stored, '/'-separated
    QByteArray bytes;
};
QList<ZipEntry> readZip(const QByteArray &archive, QString *error);

} // namespace viv
