#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QStringList>

class QObject;

namespace viv {

class SecretStore;

// Several keychain entries changed as one step: the entries are written (or removed) one after
// another, since the keychain is asynchronous. The one helper for every service that keeps
// more than one secret per request (SessionService's repository tokens, VaultService's
// credential purges).
//
// `context` guards the chain: once it is destroyed the chain stops and `done` is not called.
namespace keychain {

// Writes each (key, secret); on the first failure removes what this batch had written and
// answers that failure.
void writeAll(SecretStore &store, QObject *context, QList<QPair<QString, QByteArray>> entries, Callback<Ok> done);

// Removes each key (an absent entry counts as removed); stops at the first failure (logged by
// key, never a value) and answers it.
void removeAll(SecretStore &store, QObject *context, QStringList keys, Callback<Ok> done);

} // namespace keychain
} // namespace viv
