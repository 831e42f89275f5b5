#include "Multipart.h"

#include <string_view>

namespace viv::multipart {

namespace {

struct Param
{
    QByteArray name; // lower-cased
    QByteArray value;
};

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}

void skipSpace(const QByteArray &s, qsizetype &pos)
{
    while (pos < s.size() && isSpace(s.at(pos)))
        ++pos;
}

// Reads `;`-separated parameters from `s` starting at `pos` (just after the main value).
// Values are tokens or quoted strings. A backslash inside a quoted string escapes only `"` and
// `\` (as Go's mime package does), so a Windows path in a filename keeps its separators and the
// final-component rule can still strip them.
std::optional<QString> readParams(const QByteArray &s, qsizetype pos, QList<Param> &out)
{
    for (;;) {
        skipSpace(s, pos);
        if (pos >= s.size())
            return std::nullopt;
        if (s.at(pos) != ';')
            return QStringLiteral("expected `;` before parameter at offset %1").arg(pos);
        ++pos;
        skipSpace(s, pos);
        if (pos >= s.size())
            return std::nullopt; // a trailing `;` is harmless
        if (s.at(pos) == ';')
            continue;
        const qsizetype nameStart = pos;
        while (pos < s.size() && s.at(pos) != '=' && s.at(pos) != ';' && !isSpace(s.at(pos)))
            ++pos;
        Param p;
        p.name = s.mid(nameStart, pos - nameStart).toLower();
        if (p.name.isEmpty())
            return QStringLiteral("empty parameter name at offset %1").arg(nameStart);
        skipSpace(s, pos);
        if (pos >= s.size() || s.at(pos) != '=')
            return QStringLiteral("parameter `%1` has no value").arg(QString::fromLatin1(p.name));
        ++pos;
        skipSpace(s, pos);
        if (pos < s.size() && s.at(pos) == '"') {
            ++pos;
            bool closed = false;
            while (pos < s.size()) {
                const char c = s.at(pos);
                if (c == '\\' && pos + 1 < s.size() && (s.at(pos + 1) == '"' || s.at(pos + 1) == '\\')) {
                    p.value += s.at(pos + 1);
                    pos += 2;
                    continue;
                }
                if (c == '"') {
                    closed = true;
                    ++pos;
                    break;
                }
                p.value += c;
                ++pos;
            }
            if (!closed)
                return QStringLiteral("unterminated quoted value for parameter `%1`")
                    .arg(QString::fromLatin1(p.name));
        } else {
            const qsizetype valueStart = pos;
            while (pos < s.size() && s.at(pos) != ';' && !isSpace(s.at(pos)))
                ++pos;
            p.value = s.mid(valueStart, pos - valueStart);
            if (p.value.isEmpty())
                return QStringLiteral("parameter `%1` has an empty value").arg(QString::fromLatin1(p.name));
        }
        for (const Param &seen : std::as_const(out)) {
            if (seen.name == p.name)
                return QStringLiteral("parameter `%1` is given twice").arg(QString::fromLatin1(p.name));
        }
        out.append(std::move(p));
    }
}

bool hasControl(const QByteArray &s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return true;
    }
    return false;
}

// RFC 2046 bchars: DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":"
// / "=" / "?" / " ", not ending in a space.
bool validBoundary(const QByteArray &b)
{
    if (b.isEmpty() || b.size() > kMaxBoundaryLength || b.endsWith(' '))
        return false;
    for (char c : b) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                        || std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
        if (!ok)
            return false;
    }
    return true;
}

// RFC 5987 ext-value: charset'language'percent-encoded.
Result<QString> decodeExtValue(const QByteArray &v)
{
    const qsizetype q1 = v.indexOf('\'');
    const qsizetype q2 = q1 < 0 ? -1 : v.indexOf('\'', q1 + 1);
    if (q2 < 0)
        return ApiError::invalid(QStringLiteral("`filename*` is not of the form charset'language'value"));
    const QByteArray charset = v.left(q1).toLower();
    const QByteArray raw = QByteArray::fromPercentEncoding(v.mid(q2 + 1));
    if (charset == "utf-8")
        return QString::fromUtf8(raw);
    if (charset == "iso-8859-1")
        return QString::fromLatin1(raw);
    return ApiError::invalid(QStringLiteral("`filename*` uses unsupported charset `%1` (use UTF-8)")
                                 .arg(QString::fromLatin1(charset)));
}

ApiError malformed(const QString &what)
{
    return ApiError::invalid(QStringLiteral("malformed multipart/form-data body: %1").arg(what));
}

} // namespace

Result<QByteArray> boundaryFromContentType(const QByteArray &contentType)
{
    const QByteArray ct = contentType.trimmed();
    qsizetype semi = ct.indexOf(';');
    const QByteArray mediaType = ct.left(semi < 0 ? ct.size() : semi).trimmed().toLower();
    if (mediaType != "multipart/form-data")
        return ApiError::invalid(
            QStringLiteral("Content-Type must be multipart/form-data (got `%1`); upload the file "
                           "as a multipart form field named `file`")
                .arg(ct.isEmpty() ? QStringLiteral("none") : QString::fromLatin1(mediaType.left(100))));
    QList<Param> params;
    if (semi >= 0) {
        if (auto err = readParams(ct, semi, params))
            return ApiError::invalid(QStringLiteral("malformed Content-Type header: %1").arg(*err));
    }
    for (const Param &p : std::as_const(params)) {
        if (p.name != "boundary")
            continue;
        if (!validBoundary(p.value))
            return ApiError::invalid(QStringLiteral(
                "malformed Content-Type header: the multipart boundary must be 1 to 70 characters "
                "of RFC 2046's boundary alphabet"));
        return p.value;
    }
    return ApiError::invalid(
        QStringLiteral("malformed Content-Type header: multipart/form-data needs a boundary parameter"));
}

Result<Disposition> parseContentDisposition(const QByteArray &value)
{
    const QByteArray v = value.trimmed();
    const qsizetype semi = v.indexOf(';');
    Disposition d;
    d.type = v.left(semi < 0 ? v.size() : semi).trimmed().toLower();
    if (d.type.isEmpty())
        return ApiError::invalid(QStringLiteral("Content-Disposition has no disposition type"));
    QList<Param> params;
    if (semi >= 0) {
        if (auto err = readParams(v, semi, params))
            return ApiError::invalid(QStringLiteral("malformed Content-Disposition: %1").arg(*err));
    }
    std::optional<QString> extFilename;
    for (const Param &p : std::as_const(params)) {
        if (p.name == "name") {
            d.name = QString::fromUtf8(p.value);
        } else if (p.name == "filename") {
            d.filename = QString::fromUtf8(p.value);
        } else if (p.name == "filename*") {
            auto decoded = decodeExtValue(p.value);
            if (!decoded)
                return decoded.error();
            extFilename = *decoded;
        }
    }
    if (extFilename)
        d.filename = extFilename;
    return d;
}

Result<QList<Part>> parse(const QByteArray &body, const QByteArray &boundary, int maxParts)
{
    if (!validBoundary(boundary))
        return malformed(QStringLiteral("invalid boundary"));
    const QByteArray dash = "--" + boundary;
    const QByteArray delimiter = "\r\n" + dash;

    // The first boundary opens the body or follows a preamble (which is ignored).
    qsizetype pos = 0;
    if (body.startsWith(dash)) {
        pos = dash.size();
    } else {
        const qsizetype first = body.indexOf(delimiter);
        if (first < 0)
            return malformed(QStringLiteral("the boundary from the Content-Type header never occurs in the body"));
        pos = first + delimiter.size();
    }

    QList<Part> parts;
    for (;;) {
        // Just past a boundary: "--" closes the body (the epilogue is ignored); otherwise
        // optional transport padding and CRLF start the next part.
        if (QByteArrayView(body).sliced(pos).startsWith("--"))
            break;
        skipSpace(body, pos);
        if (!QByteArrayView(body).sliced(pos).startsWith("\r\n"))
            return malformed(pos >= body.size()
                                 ? QStringLiteral("the body ends without the closing boundary (truncated?)")
                                 : QStringLiteral("a boundary line must end with CRLF (at offset %1)").arg(pos));
        pos += 2;
        const int index = int(parts.size());
        if (index >= maxParts)
            return malformed(QStringLiteral("more than %1 parts").arg(maxParts));

        const qsizetype end = body.indexOf(delimiter, pos);
        if (end < 0)
            return malformed(QStringLiteral("part %1 is not closed by a boundary (truncated body?)").arg(index));

        // Header block: lines up to an empty line. A part may have no headers at all.
        QByteArray headerBlock;
        qsizetype contentStart = 0;
        if (QByteArrayView(body).sliced(pos).startsWith("\r\n")) {
            contentStart = pos + 2;
        } else {
            const qsizetype headerEnd = body.indexOf("\r\n\r\n", pos);
            if (headerEnd < 0 || headerEnd + 4 > end)
                return malformed(QStringLiteral("part %1: headers are not followed by an empty line").arg(index));
            if (headerEnd - pos > kMaxHeaderBytes)
                return malformed(QStringLiteral("part %1: headers exceed %2 bytes").arg(index).arg(kMaxHeaderBytes));
            headerBlock = body.mid(pos, headerEnd - pos);
            contentStart = headerEnd + 4;
        }
        if (contentStart > end)
            return malformed(QStringLiteral("part %1 has no header block").arg(index));

        // Unfold obsolete line folding, then read "Name: value" lines.
        QList<QByteArray> lines;
        for (const QByteArray &line : headerBlock.split('\n')) {
            QByteArray l = line;
            if (l.endsWith('\r'))
                l.chop(1);
            if (l.contains('\r'))
                return malformed(QStringLiteral("part %1: stray CR in a header line").arg(index));
            if (!l.isEmpty() && isSpace(l.at(0)) && !lines.isEmpty())
                lines.last() += ' ' + l.trimmed();
            else
                lines.append(l);
        }
        Part part;
        bool sawDisposition = false, sawType = false;
        for (const QByteArray &line : std::as_const(lines)) {
            if (line.isEmpty())
                continue;
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                return malformed(QStringLiteral("part %1: header line without a name and `:`").arg(index));
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (hasControl(value))
                return malformed(QStringLiteral("part %1: control character in header `%2`")
                                     .arg(index)
                                     .arg(QString::fromLatin1(name)));
            if (name == "content-disposition") {
                if (sawDisposition)
                    return malformed(QStringLiteral("part %1: Content-Disposition given twice").arg(index));
                sawDisposition = true;
                auto d = parseContentDisposition(value);
                if (!d)
                    return malformed(QStringLiteral("part %1: %2").arg(index).arg(d.error().message()));
                if (d->type != "form-data")
                    return malformed(QStringLiteral("part %1: Content-Disposition must be form-data").arg(index));
                if (!d->name || d->name->isEmpty())
                    return malformed(QStringLiteral("part %1: Content-Disposition has no field name").arg(index));
                part.name = *d->name;
                part.filename = d->filename;
            } else if (name == "content-type") {
                if (sawType)
                    return malformed(QStringLiteral("part %1: Content-Type given twice").arg(index));
                sawType = true;
                part.contentType = value;
            }
        }
        if (!sawDisposition)
            return malformed(QStringLiteral("part %1 has no Content-Disposition header").arg(index));
        part.body = body.mid(contentStart, end - contentStart);
        parts.append(std::move(part));
        pos = end + delimiter.size();
    }
    return parts;
}

} // namespace viv::multipart
