#pragma once

#include "sandbox/GuestImage.h"

#include <QTest>

// Sandbox tests start by making sure the guest image exists: the first run after a recipe
// change builds it (minutes), later runs hit the cache. Returns the build error, empty when
// the image is ready (or "timed out").
inline QString waitForGuestImage(viv::GuestImage &image, int timeoutMs = 20 * 60 * 1000)
{
    bool done = false;
    QString error;
    image.ensure([&](const QString &e) {
        error = e;
        done = true;
    });
    if (!QTest::qWaitFor([&] { return done; }, timeoutMs))
        return QStringLiteral("timed out waiting for the guest image");
    return error;
}
