#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

namespace viv::skills {

// What a skill upload is made of and the rules it must pass (the Skills API: "All files must
// be in the same top-level directory and must include a SKILL.md file at the root of that
// directory"; SKILL.md front matter `name` and `description`). Pure functions, unit-testable.

constexpr qint64 kMaxTotalBytes = 8 * 1024 * 1024; // all files of one upload together
constexpr int kMaxFiles = 500;
constexpr int kMaxPathBytes = 512;       // one file's path, UTF-8
constexpr int kMaxNameLength = 64;       // front matter `name`
constexpr int kMaxDescriptionLength = 1024;
constexpr int kMaxDisplayNameLength = 255;

struct File
{
    QString path; // as uploaded (the multipart filename), or relative to the skill's folder
    QByteArray bytes;
};

struct Bundle
{
    QString folder;      // the upload's one top-level directory
    QString name;        // SKILL.md front matter `name`
    QString description; // SKILL.md front matter `description`
    QList<File> files;   // paths relative to `folder`, sorted
};

// Validates an upload: at least one file, at most kMaxFiles, kMaxTotalBytes in all; every path
// relative ('/'-separated, no empty, `.` or `..` segment, no backslash or control character, at
// most kMaxPathBytes) under one shared top-level folder, no path twice; `<folder>/SKILL.md`
// present with valid front matter (see frontMatter). Each fault is its own 400 naming the
// file or field.
Result<Bundle> validate(QList<File> files);

// The `name` and `description` of a SKILL.md: a YAML front matter block opened by a `---`
// line at the very start and closed by the next `---` line. Top-level `key: value` pairs with
// plain, single- or double-quoted scalars, or `|` / `>` block scalars; other keys (nested maps
// such as `metadata`) are skipped. `name`: 1–64 characters of a-z, 0-9 and '-', not starting
// or ending with '-', without "anthropic" or "claude"; `description`: non-empty, at most 1024
// characters; neither may contain an XML tag.
struct FrontMatter
{
    QString name;
    QString description;
};
Result<FrontMatter> frontMatter(const QByteArray &skillMd);

// A `display_name`: at most 255 characters, one line.
Result<QString> displayName(const QString &raw);

// A zip archive (stored entries, no compression) of `files` under the folder `root`
// (`root/<path>`), every entry dated `mtime`, in the order given: the same input always gives
// the same bytes.
QByteArray zip(const QString &root, const QList<File> &files, const QDateTime &mtime);

} // namespace viv::skills
