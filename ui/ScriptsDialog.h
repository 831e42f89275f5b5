#pragma once

#include <QDialog>

namespace viv {

// "Use from scripts": the base URL, a button that copies the API key (the key itself is not
// displayed), and ready-to-run snippets for the official TypeScript and Python SDKs.
class ScriptsDialog : public QDialog
{
    Q_OBJECT
public:
    ScriptsDialog(const QString &baseUrl, const QString &apiKey, QWidget *parent = nullptr);
    static QString typeScriptSnippet(const QString &baseUrl);
    static QString pythonSnippet(const QString &baseUrl);
};

} // namespace viv
