#include "SkillBundle.h"

#include <QHash>
#include <QRegularExpression>
#include <QSet>
#include <QStringDecoder>
#include <QStringList>

#include <algorithm>
#include <array>

namespace viv::skills {

namespace {

bool isControl(QChar c)
{
    const char16_t u = c.unicode();
    return u < 0x20 || (u >= 0x7f && u <= 0x9f);
}

bool hasXmlTag(const QString &s)
{
    static const QRegularExpression re(QStringLiteral("<[A-Za-z/!?][^<>]*>"));
    return re.match(s).hasMatch();
}

QString shown(const QString &path)
{
    QString s = path.left(120);
    s.replace(QRegularExpression(QStringLiteral("[\\x00-\\x1f\\x7f]")), QStringLiteral("?"));
    return s;
}

// A double-quoted YAML scalar's escapes (the common ones).
QString unescapeDouble(QStringView in, bool &ok)
{
    QString out;
    ok = true;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const QChar c = in.at(i);
        if (c != u'\\') {
            out += c;
            continue;
        }
        if (++i >= in.size()) {
            ok = false;
            return {};
        }
        switch (in.at(i).unicode()) {
        case 'n': out += u'\n'; break;
        case 't': out += u'\t'; break;
        case '"': out += u'"'; break;
        case '\\': out += u'\\'; break;
        case '/': out += u'/'; break;
        case ' ': out += u' '; break;
        default: ok = false; return {};
        }
    }
    return out;
}

// Indented continuation lines of a value that starts on `lines[i]`, consumed.
QStringList continuation(const QStringList &lines, qsizetype &i)
{
    QStringList more;
    while (i + 1 < lines.size()) {
        const QString &next = lines.at(i + 1);
        if (!next.trimmed().isEmpty() && !next.front().isSpace())
            break;
        more << next;
        ++i;
    }
    while (!more.isEmpty() && more.last().trimmed().isEmpty())
        more.removeLast();
    return more;
}

Result<QString> scalar(const QString &key, const QString &first, const QStringList &lines, qsizetype &i)
{
    const QString v = first.trimmed();
    const auto bad = [&key](const QString &why) {
        return ApiError::invalid(QStringLiteral("SKILL.md front matter: `%1` %2").arg(key, why));
    };
    if (v.startsWith(u'|') || v.startsWith(u'>')) {
        const bool folded = v.startsWith(u'>');
        QStringList block = continuation(lines, i);
        qsizetype indent = -1;
        for (const QString &l : std::as_const(block)) {
            if (l.trimmed().isEmpty())
                continue;
            qsizetype n = 0;
            while (n < l.size() && l.at(n).isSpace())
                ++n;
            indent = indent < 0 ? n : std::min(indent, n);
        }
        QStringList body;
        for (const QString &l : std::as_const(block))
            body << (l.trimmed().isEmpty() ? QString() : l.mid(indent));
        return folded ? body.join(u' ').trimmed() : body.join(u'\n');
    }
    if (v.startsWith(u'"') || v.startsWith(u'\'')) {
        const QChar q = v.front();
        QString text = v;
        // A quoted scalar may continue on indented lines (folded with a space).
        for (const QString &l : continuation(lines, i))
            text += u' ' + l.trimmed();
        qsizetype end = -1;
        for (qsizetype k = 1; k < text.size(); ++k) {
            if (q == u'"' && text.at(k) == u'\\') {
                ++k;
                continue;
            }
            if (text.at(k) == q) {
                if (q == u'\'' && k + 1 < text.size() && text.at(k + 1) == u'\'') {
                    ++k;
                    continue;
                }
                end = k;
                break;
            }
        }
        if (end < 0)
            return bad(QStringLiteral("has an unterminated quoted value"));
        const QString rest = text.mid(end + 1).trimmed();
        if (!rest.isEmpty() && !rest.startsWith(u'#'))
            return bad(QStringLiteral("has text after its closing quote"));
        const QStringView inner = QStringView(text).mid(1, end - 1);
        if (q == u'\'')
            return inner.toString().replace(QStringLiteral("''"), QStringLiteral("'"));
        bool ok = false;
        QString out = unescapeDouble(inner, ok);
        if (!ok)
            return bad(QStringLiteral("has an unsupported escape sequence"));
        return out;
    }
    if (v.startsWith(u'[') || v.startsWith(u'{') || v.startsWith(u'&') || v.startsWith(u'*')
        || v.startsWith(u'!'))
        return bad(QStringLiteral("must be a string"));
    QString text = v;
    const qsizetype hash = text.indexOf(QStringLiteral(" #"));
    if (hash >= 0)
        text.truncate(hash);
    for (const QString &l : continuation(lines, i))
        text += u' ' + l.trimmed();
    return text.trimmed();
}

// CRC-32 (IEEE 802.3), as zip requires.
quint32 crc32(const QByteArray &data)
{
    static const std::array<quint32, 256> table = [] {
        std::array<quint32, 256> t{};
        for (quint32 n = 0; n < 256; ++n) {
            quint32 c = n;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    quint32 c = 0xFFFFFFFFu;
    for (char ch : data)
        c = table[(c ^ quint8(ch)) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void put16(QByteArray &out, quint32 v)
{
    out += char(v & 0xFF);
    out += char((v >> 8) & 0xFF);
}

void put32(QByteArray &out, quint32 v)
{
    put16(out, v & 0xFFFF);
    put16(out, v >> 16);
}

} // namespace

Result<QString> displayName(const QString &raw)
{
    if (raw.size() > kMaxDisplayNameLength)
        return ApiError::invalid(QStringLiteral("`display_name` is %1 characters long; the limit is %2")
                                     .arg(raw.size())
                                     .arg(kMaxDisplayNameLength));
    if (std::any_of(raw.begin(), raw.end(), isControl))
        return ApiError::invalid(QStringLiteral("`display_name` must be a single line without control characters"));
    return raw.trimmed();
}

Result<FrontMatter> frontMatter(const QByteArray &skillMd)
{
    QStringDecoder decode(QStringConverter::Utf8, QStringConverter::Flag::Stateless);
    QString text = decode(skillMd);
    if (decode.hasError())
        return ApiError::invalid(QStringLiteral("SKILL.md is not valid UTF-8 text"));
    if (text.startsWith(QChar(0xFEFF)))
        text.remove(0, 1);
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    const QStringList all = text.split(u'\n');
    if (all.isEmpty() || all.first().trimmed() != u"---")
        return ApiError::invalid(QStringLiteral("SKILL.md must start with YAML front matter: a `---` line, "
                                                "`name:` and `description:`, then a closing `---` line"));
    qsizetype close = -1;
    for (qsizetype i = 1; i < all.size(); ++i) {
        const QString t = all.at(i).trimmed();
        if (t == u"---" || t == u"...") {
            close = i;
            break;
        }
    }
    if (close < 0)
        return ApiError::invalid(QStringLiteral("SKILL.md front matter is not closed by a `---` line"));
    const QStringList lines = all.mid(1, close - 1);

    static const QRegularExpression keyRe(QStringLiteral("^([A-Za-z0-9_-]+)\\s*:(?:\\s+(.*))?$"));
    QHash<QString, QString> values;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString &line = lines.at(i);
        if (line.trimmed().isEmpty() || line.trimmed().startsWith(u'#') || line.front().isSpace())
            continue; // blank, comment, or nested under a key we skip
        const auto m = keyRe.match(line);
        if (!m.hasMatch())
            return ApiError::invalid(QStringLiteral("SKILL.md front matter line %1 is not `key: value`").arg(i + 2));
        const QString key = m.captured(1);
        if (key != u"name" && key != u"description")
            continue;
        if (values.contains(key))
            return ApiError::invalid(QStringLiteral("SKILL.md front matter: `%1` is given twice").arg(key));
        auto v = scalar(key, m.captured(2), lines, i);
        if (!v)
            return v.error();
        values.insert(key, *v);
    }

    FrontMatter fm;
    if (!values.contains(QStringLiteral("name")) || values.value(QStringLiteral("name")).isEmpty())
        return ApiError::invalid(QStringLiteral("SKILL.md front matter has no `name`"));
    if (!values.contains(QStringLiteral("description")) || values.value(QStringLiteral("description")).trimmed().isEmpty())
        return ApiError::invalid(QStringLiteral("SKILL.md front matter has no `description`"));
    fm.name = values.value(QStringLiteral("name"));
    fm.description = values.value(QStringLiteral("description")).trimmed();

    static const QRegularExpression nameRe(QStringLiteral("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"));
    if (fm.name.size() > kMaxNameLength)
        return ApiError::invalid(QStringLiteral("SKILL.md front matter: `name` is %1 characters long; the limit is %2")
                                     .arg(fm.name.size())
                                     .arg(kMaxNameLength));
    if (!nameRe.match(fm.name).hasMatch())
        return ApiError::invalid(QStringLiteral("SKILL.md front matter: `name` \"%1\" may contain only lowercase "
                                                "letters, digits and hyphens, and must not start or end with a hyphen")
                                     .arg(shown(fm.name)));
    if (fm.name.contains(QStringLiteral("anthropic")) || fm.name.contains(QStringLiteral("claude")))
        return ApiError::invalid(QStringLiteral("SKILL.md front matter: `name` must not contain the reserved words "
                                                "\"anthropic\" or \"claude\""));
    if (fm.description.size() > kMaxDescriptionLength)
        return ApiError::invalid(
            QStringLiteral("SKILL.md front matter: `description` is %1 characters long; the limit is %2")
                .arg(fm.description.size())
                .arg(kMaxDescriptionLength));
    if (hasXmlTag(fm.description))
        return ApiError::invalid(QStringLiteral("SKILL.md front matter: `description` must not contain XML tags"));
    return fm;
}

Result<Bundle> validate(QList<File> files)
{
    if (files.isEmpty())
        return ApiError::invalid(QStringLiteral("`files`: upload at least one file (the skill's folder with its SKILL.md)"));
    if (files.size() > kMaxFiles)
        return ApiError::invalid(QStringLiteral("`files`: %1 files uploaded; the limit is %2")
                                     .arg(files.size())
                                     .arg(kMaxFiles));
    qint64 total = 0;
    for (const File &f : std::as_const(files))
        total += f.bytes.size();
    if (total > kMaxTotalBytes)
        return ApiError::invalid(QStringLiteral("`files`: the upload is %1 bytes in all; the limit is %2 bytes (8 MiB)")
                                     .arg(total)
                                     .arg(kMaxTotalBytes));

    Bundle b;
    QSet<QString> seen;
    for (File &f : files) {
        const QString &p = f.path;
        if (p.isEmpty())
            return ApiError::invalid(QStringLiteral("`files`: every file needs a path (the part's filename), "
                                                    "such as \"my-skill/SKILL.md\""));
        if (p.toUtf8().size() > kMaxPathBytes)
            return ApiError::invalid(QStringLiteral("`files`: the path \"%1…\" is longer than %2 bytes")
                                         .arg(shown(p))
                                         .arg(kMaxPathBytes));
        if (std::any_of(p.begin(), p.end(), isControl))
            return ApiError::invalid(QStringLiteral("`files`: the path \"%1\" contains a control character").arg(shown(p)));
        if (p.contains(u'\\'))
            return ApiError::invalid(
                QStringLiteral("`files`: the path \"%1\" contains a backslash; separate folders with '/'").arg(shown(p)));
        if (p.startsWith(u'/'))
            return ApiError::invalid(
                QStringLiteral("`files`: the path \"%1\" is absolute; paths are relative to the upload").arg(shown(p)));
        const QStringList segs = p.split(u'/');
        for (const QString &s : segs) {
            if (s == u"..")
                return ApiError::invalid(QStringLiteral("`files`: the path \"%1\" contains a `..` segment").arg(shown(p)));
            if (s.isEmpty() || s == u".")
                return ApiError::invalid(
                    QStringLiteral("`files`: the path \"%1\" has an empty or `.` segment").arg(shown(p)));
        }
        if (segs.size() < 2)
            return ApiError::invalid(QStringLiteral("`files`: \"%1\" is not inside a folder: all files must be in the "
                                                    "same top-level directory, with SKILL.md at its root")
                                         .arg(shown(p)));
        if (b.folder.isEmpty())
            b.folder = segs.first();
        else if (segs.first() != b.folder)
            return ApiError::invalid(QStringLiteral("`files`: the upload has more than one top-level directory "
                                                    "(\"%1\" and \"%2\"); all files must be in the same one")
                                         .arg(shown(b.folder), shown(segs.first())));
        const QString rel = segs.mid(1).join(u'/');
        if (seen.contains(rel))
            return ApiError::invalid(QStringLiteral("`files`: \"%1\" is uploaded twice").arg(shown(p)));
        seen.insert(rel);
        f.path = rel;
    }
    const auto md = std::find_if(files.cbegin(), files.cend(), [](const File &f) { return f.path == u"SKILL.md"; });
    if (md == files.cend())
        return ApiError::invalid(QStringLiteral("`files`: no SKILL.md at the root of \"%1/\"; a skill's folder must "
                                                "contain SKILL.md with `name` and `description` front matter")
                                     .arg(shown(b.folder)));
    auto fm = frontMatter(md->bytes);
    if (!fm)
        return fm.error();
    b.name = fm->name;
    b.description = fm->description;
    std::sort(files.begin(), files.end(), [](const File &a, const File &c) { return a.path < c.path; });
    b.files = std::move(files);
    return b;
}

QByteArray zip(const QString &root, const QList<File> &files, const QDateTime &mtime)
{
    const QDateTime t = mtime.toUTC();
    const QDate d = t.date();
    const QTime tm = t.time();
    const quint32 dosTime = quint32(tm.hour() << 11 | tm.minute() << 5 | tm.second() / 2);
    const quint32 dosDate = quint32(std::max(0, d.year() - 1980) << 9 | d.month() << 5 | d.day());

    QByteArray out;
    QByteArray central;
    for (const File &f : files) {
        const QByteArray name = (root + u'/' + f.path).toUtf8();
        const quint32 crc = crc32(f.bytes);
        const quint32 offset = quint32(out.size());
        // Local file header: version 2.0, flag bit 11 (UTF-8 names), stored.
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0x0800);
        put16(out, 0);
        put16(out, dosTime);
        put16(out, dosDate);
        put32(out, crc);
        put32(out, quint32(f.bytes.size()));
        put32(out, quint32(f.bytes.size()));
        put16(out, quint32(name.size()));
        put16(out, 0);
        out += name;
        out += f.bytes;
        // Central directory entry: made by Unix (3), regular file 0644.
        put32(central, 0x02014b50);
        put16(central, 3 << 8 | 20);
        put16(central, 20);
        put16(central, 0x0800);
        put16(central, 0);
        put16(central, dosTime);
        put16(central, dosDate);
        put32(central, crc);
        put32(central, quint32(f.bytes.size()));
        put32(central, quint32(f.bytes.size()));
        put16(central, quint32(name.size()));
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put32(central, quint32(0100644) << 16);
        put32(central, offset);
        central += name;
    }
    const quint32 cdOffset = quint32(out.size());
    out += central;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, quint32(files.size()));
    put16(out, quint32(files.size()));
    put32(out, quint32(central.size()));
    put32(out, cdOffset);
    put16(out, 0);
    return out;
}

} // namespace viv::skills
