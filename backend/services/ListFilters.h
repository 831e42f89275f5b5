#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QList>
#include <QString>
#include <QStringList>

// The filters list endpoints share, built one way (the agents, sessions, events, memory store
// and memory version lists; the files list's ids).
namespace viv::listfilters {

// A list's `created_at[gt]`, `[gte]`, `[lt]`, `[lte]` query values; empty = no bound.
struct CreatedAt
{
    QString gt, gte, lt, lte;
};

// One `created_at <op> ?` filter per bound given. Each must be an RFC 3339 timestamp with a
// time (`2026-04-01T12:00:00Z`; without an offset it is read as UTC); it is compared as stored
// (UTC, milliseconds), so the SQL string comparison is a time comparison. A bad one is a 400
// naming its parameter.
Result<QList<DocTable::Filter>> createdAt(const CreatedAt &bounds);

// `<column> IN (?, ?, …)` over `values` (at least one).
DocTable::Filter anyOf(const QString &column, const QStringList &values);

} // namespace viv::listfilters
