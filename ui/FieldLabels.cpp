#include "FieldLabels.h"

#include <QCoreApplication>
#include <QHash>
#include <QRegularExpression>
#include <QStringList>

namespace viv {

namespace {

// The forms' labels (without their mnemonic and colon), by the API's field name, or by its
// full path (indices written as []) where a name alone is ambiguous.
QString knownLabel(const QString &key)
{
    static const QHash<QString, const char *> labels{
        {QStringLiteral("name"), QT_TRANSLATE_NOOP("FieldLabels", "Name")},
        {QStringLiteral("display_name"), QT_TRANSLATE_NOOP("FieldLabels", "Name")},
        {QStringLiteral("description"), QT_TRANSLATE_NOOP("FieldLabels", "Description")},
        {QStringLiteral("model"), QT_TRANSLATE_NOOP("FieldLabels", "Model")},
        {QStringLiteral("system"), QT_TRANSLATE_NOOP("FieldLabels", "System prompt")},
        {QStringLiteral("tools"), QT_TRANSLATE_NOOP("FieldLabels", "Tools")},
        {QStringLiteral("mcp_servers"), QT_TRANSLATE_NOOP("FieldLabels", "MCP servers")},
        {QStringLiteral("skills"), QT_TRANSLATE_NOOP("FieldLabels", "Skills")},
        {QStringLiteral("metadata"), QT_TRANSLATE_NOOP("FieldLabels", "Metadata")},
        {QStringLiteral("input_schema"), QT_TRANSLATE_NOOP("FieldLabels", "Input schema")},
        {QStringLiteral("networking"), QT_TRANSLATE_NOOP("FieldLabels", "Networking")},
        {QStringLiteral("allowed_hosts"), QT_TRANSLATE_NOOP("FieldLabels", "Allowed hosts")},
        {QStringLiteral("allow_mcp_servers"), QT_TRANSLATE_NOOP("FieldLabels", "Allow MCP servers")},
        {QStringLiteral("allow_package_managers"), QT_TRANSLATE_NOOP("FieldLabels", "Allow package managers")},
        {QStringLiteral("packages"), QT_TRANSLATE_NOOP("FieldLabels", "Packages")},
        {QStringLiteral("agent"), QT_TRANSLATE_NOOP("FieldLabels", "Agent")},
        {QStringLiteral("environment_id"), QT_TRANSLATE_NOOP("FieldLabels", "Environment")},
        {QStringLiteral("vault_ids"), QT_TRANSLATE_NOOP("FieldLabels", "Vaults")},
        {QStringLiteral("title"), QT_TRANSLATE_NOOP("FieldLabels", "Title")},
        {QStringLiteral("resources"), QT_TRANSLATE_NOOP("FieldLabels", "Resources")},
        {QStringLiteral("mount_path"), QT_TRANSLATE_NOOP("FieldLabels", "Mount path")},
        {QStringLiteral("file_id"), QT_TRANSLATE_NOOP("FieldLabels", "File")},
        {QStringLiteral("url"), QT_TRANSLATE_NOOP("FieldLabels", "URL")},
        {QStringLiteral("mcp_server_url"), QT_TRANSLATE_NOOP("FieldLabels", "MCP server URL")},
        {QStringLiteral("secret_name"), QT_TRANSLATE_NOOP("FieldLabels", "Variable name")},
        {QStringLiteral("token"), QT_TRANSLATE_NOOP("FieldLabels", "Secret")},
        {QStringLiteral("permission_policy"), QT_TRANSLATE_NOOP("FieldLabels", "Permission")},
    };
    const auto it = labels.constFind(key);
    return it == labels.cend() ? QString() : QCoreApplication::translate("FieldLabels", it.value());
}

// "max_tokens" → "Max tokens".
QString fromApiName(const QString &name)
{
    QString s = name;
    s.replace(u'_', u' ');
    if (!s.isEmpty())
        s[0] = s[0].toUpper();
    return s;
}

} // namespace

QString fieldLabel(const QString &apiPath)
{
    static const QRegularExpression segment(QStringLiteral("^([A-Za-z_][A-Za-z0-9_]*)((?:\\[\\d+\\])*)$"));
    static const QRegularExpression index(QStringLiteral("\\[(\\d+)\\]"));
    const QStringList parts = apiPath.split(u'.');
    QStringList names, context;
    QString leaf, leafItems;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const auto m = segment.match(parts[i]);
        if (!m.hasMatch())
            return apiPath; // not a field path
        const QString name = m.captured(1);
        names.append(name);
        QString label = knownLabel(name);
        if (label.isEmpty())
            label = fromApiName(name);
        // Items of a list are counted from 1, as people count them.
        QStringList items;
        for (auto it = index.globalMatch(m.captured(2)); it.hasNext();)
            items.append(QString::number(it.next().captured(1).toInt() + 1));
        if (i == parts.size() - 1) {
            leaf = label;
            leafItems = items.join(u'.');
        } else if (!items.isEmpty()) {
            context.append(QCoreApplication::translate("FieldLabels", "%1, item %2").arg(label, items.join(u'.')));
        }
    }
    // A full path may have a label of its own.
    const QString whole = knownLabel(names.join(u'.'));
    if (!whole.isEmpty())
        leaf = whole;
    QString out = QStringLiteral("“%1”").arg(leaf);
    if (!leafItems.isEmpty())
        out = QCoreApplication::translate("FieldLabels", "%1, item %2").arg(out, leafItems);
    if (!context.isEmpty())
        out += QStringLiteral(" (%1)").arg(context.join(QStringLiteral("; ")));
    return out;
}

QString withFieldLabels(const QString &message)
{
    static const QRegularExpression path(
        QStringLiteral("`([A-Za-z_][A-Za-z0-9_]*(?:\\[\\d+\\])*(?:\\.[A-Za-z_][A-Za-z0-9_]*(?:\\[\\d+\\])*)*)`:"));
    QString out;
    qsizetype from = 0;
    for (auto it = path.globalMatch(message); it.hasNext();) {
        const auto m = it.next();
        out += message.mid(from, m.capturedStart() - from);
        out += fieldLabel(m.captured(1)) + u':';
        from = m.capturedEnd();
    }
    out += message.mid(from);
    return out;
}

} // namespace viv
