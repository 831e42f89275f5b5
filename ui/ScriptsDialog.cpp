#include "ScriptsDialog.h"

#include "Widgets.h"

#include <QClipboard>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

namespace viv {

QString ScriptsDialog::typeScriptSnippet(const QString &baseUrl)
{
    return QStringLiteral(
               "// npm install @anthropic-ai/sdk\n"
               "import Anthropic from '@anthropic-ai/sdk';\n"
               "\n"
               "const client = new Anthropic({\n"
               "  baseURL: '%1',\n"
               "  apiKey: process.env.VIVARIUM_API_KEY,\n"
               "});\n"
               "\n"
               "const agents = await client.beta.agents.list();\n"
               "for (const agent of agents.data) console.log(agent.id, agent.name);\n")
        .arg(baseUrl);
}

QString ScriptsDialog::pythonSnippet(const QString &baseUrl)
{
    return QStringLiteral(
               "# pip install anthropic\n"
               "import os\n"
               "import anthropic\n"
               "\n"
               "client = anthropic.Anthropic(\n"
               "    base_url=\"%1\",\n"
               "    api_key=os.environ[\"VIVARIUM_API_KEY\"],\n"
               ")\n"
               "\n"
               "for agent in client.beta.agents.list():\n"
               "    print(agent.id, agent.name)\n")
        .arg(baseUrl);
}

ScriptsDialog::ScriptsDialog(const QString &baseUrl, const QString &apiKey, QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("scriptsDialog"));
    setWindowTitle(tr("Use from scripts"));
    resize(640, 460);
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Scripts written for the official Anthropic SDK work against "
                                "Vivarium: change only the base URL and the API key."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto *form = new QFormLayout;
    auto *url = new QLineEdit(baseUrl, this);
    url->setObjectName(QStringLiteral("scriptsBaseUrl"));
    url->setReadOnly(true);
    auto *keyRow = new QHBoxLayout;
    auto *keyLabel = new QLabel(tr("hidden — copy it to the clipboard"), this);
    auto *copy = new QPushButton(tr("Copy API key"), this);
    copy->setObjectName(QStringLiteral("copyApiKey"));
    copy->setEnabled(!apiKey.isEmpty());
    keyRow->addWidget(keyLabel, 1);
    keyRow->addWidget(copy);
    form->addRow(tr("Base URL:"), url);
    form->addRow(tr("API key:"), keyRow);
    layout->addLayout(form);
    auto *tabs = new QTabWidget(this);
    auto *ts = new CodeEdit(QStringLiteral("typescript"), tabs);
    ts->setObjectName(QStringLiteral("snippetTypeScript"));
    ts->setPlainText(typeScriptSnippet(baseUrl));
    ts->setReadOnly(true);
    auto *py = new CodeEdit(QStringLiteral("python"), tabs);
    py->setObjectName(QStringLiteral("snippetPython"));
    py->setPlainText(pythonSnippet(baseUrl));
    py->setReadOnly(true);
    tabs->addTab(ts, tr("TypeScript"));
    tabs->addTab(py, tr("Python"));
    layout->addWidget(tabs, 1);
    auto *shell = new QLabel(tr("Then run it with the key in the environment: "
                                "<code>VIVARIUM_API_KEY=… node script.mjs</code>"),
                             this);
    layout->addWidget(shell);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(copy, &QPushButton::clicked, this, [apiKey, keyLabel] {
        QGuiApplication::clipboard()->setText(apiKey);
        keyLabel->setText(tr("Copied to the clipboard."));
    });
}

} // namespace viv
