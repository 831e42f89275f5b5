#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace viv::multipart {

// A small multipart/form-data (RFC 7578, framing per RFC 2046 §5.1.1) parser for request
// bodies that are already fully in memory (the server caps bodies at 32 MiB). Strict about
// framing — delimiters must be CRLF-separated, the close delimiter must be present — because a
// lenient parser could silently truncate an upload; lenient about what is harmless (preamble,
// epilogue, transport padding after a boundary, header-name case, quoted or bare parameters).
//
// Every function is free and pure so the edge cases can be unit-tested without a server.

// Limits that keep a hostile body from costing more than its size.
constexpr int kMaxParts = 64;
constexpr int kMaxHeaderBytes = 16 * 1024; // per part, the header block
constexpr int kMaxBoundaryLength = 70;     // RFC 2046

struct Part
{
    QString name;                    // Content-Disposition `name`
    std::optional<QString> filename; // `filename*` (RFC 5987) or `filename`, as sent; nullopt when absent
    QByteArray contentType;          // the part's Content-Type, trimmed; empty when absent
    QByteArray body;                 // raw bytes, exactly as sent
};

struct Disposition
{
    QByteArray type; // lower-cased disposition type ("form-data")
    std::optional<QString> name;
    std::optional<QString> filename;
};

// The boundary from a request's Content-Type ("multipart/form-data; boundary=…", the value
// bare or quoted). Errors when the media type is not multipart/form-data or the boundary is
// missing or malformed.
Result<QByteArray> boundaryFromContentType(const QByteArray &contentType);

// Parses a Content-Disposition header value: `form-data; name="file"; filename="a b.txt"`.
// Parameter names are case-insensitive; values may be tokens or quoted strings (with \-escapes);
// `filename*=UTF-8''percent%20encoded` is decoded and takes precedence over `filename`.
Result<Disposition> parseContentDisposition(const QByteArray &value);

// Splits `body` into its parts. Every part must carry a form-data Content-Disposition with a
// name. Errors (never partial results) on any framing problem, or when there are more than
// `maxParts` parts (a skill upload carries one part per file and allows more).
Result<QList<Part>> parse(const QByteArray &body, const QByteArray &boundary, int maxParts = kMaxParts);

} // namespace viv::multipart
