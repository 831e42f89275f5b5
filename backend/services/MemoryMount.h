#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace viv {

// The pure parts of a session's memory mount (issue 14 item 5: SessionService attaches the
// store, SessionSandboxSetup writes it into the VM, sandbox/MemoryMountSync syncs it back), kept
// apart from the VM and the database so they can be tested on their own (tst_memory_mount).
//
//  - mountName(): the folder under /mnt/memory/ a store gets, derived from the store's name
//    (the API: "Derived from the store's name"), unique within one session.
//  - parseListing(): the guest listing SessionOutputs uses (NUL-separated sha256sum -z lines,
//    "!<size> <path>" for files over the size limit), relative to the mount folder.
//  - Baseline: path → sha256 of what the mount had when it was last written or synced, saved
//    as JSON with QSaveFile (atomic) so the diff survives a backend restart.
//  - diff(): what to write (new or changed files) and what to remove (files that were in the
//    baseline and are gone), as memory paths ("/<relative path>").
namespace memorymount {

constexpr const char *kRoot = "/mnt/memory";
constexpr int kMaxNameChars = 100;

// Letters, digits, `.`, `_` and `-` kept; every other run of characters becomes one `-`;
// leading/trailing `-`/`.` dropped; at most kMaxNameChars; "memory" when nothing is left. A name
// already in `taken` gets "-2", "-3", … appended.
QString mountName(const QString &storeName, const QStringList &taken = {});

struct Listing
{
    QHash<QString, QString> files; // memory path ("/a/b.md") → sha256 (lowercase hex)
    QStringList oversized;         // memory paths of files over the size limit (not hashed)
};
Listing parseListing(const QByteArray &nulSeparated);

using Baseline = QHash<QString, QString>; // memory path → sha256

// Empty string on success, else what went wrong. load() of a missing file is an empty baseline.
QString saveBaseline(const QString &file, const Baseline &baseline);
QString loadBaseline(const QString &file, Baseline *out);

// Where a session's copy of a store lives: on its workspace disk (which outlives VM crashes and
// cold boots; the root disk is a fresh overlay each boot), bind-mounted at the mount_path.
constexpr const char *kWorkspaceDir = "/workspace/.vivarium/memory";
// The file a baseline is saved in, beside the session's workspace disk:
// sandbox/WorkspaceFiles.h (workspace::memoryBaseline).

struct Diff
{
    QStringList write;  // new or changed, sorted
    QStringList remove; // in the baseline, gone from the listing (oversized files are not gone)
};
Diff diff(const Baseline &baseline, const Listing &now);

} // namespace memorymount
} // namespace viv
