#include "FirstRunPanel.h"

#include "AppSettings.h"
#include "Backend.h"
#include "BackendBridge.h"
#include "ProviderUi.h"
#include "Widgets.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
const QString kOllamaUrl = QStringLiteral("http://127.0.0.1:11434/v1");
}

FirstRunPanel::FirstRunPanel(BackendBridge &bridge, QWidget *parent) : QFrame(parent), m_bridge(bridge)
{
    setObjectName(QStringLiteral("firstRunPanel"));
    setFrameShape(QFrame::StyledPanel);
    auto *layout = new QVBoxLayout(this);
    auto *title = new QLabel(tr("<b>Set up a model provider</b>"), this);
    auto *intro = new QLabel(tr("No model provider is usable yet, so agents cannot answer. Give Vivarium an "
                                "Anthropic API key, or point it at an OpenAI-compatible server such as a local "
                                "Ollama. Keys are stored in the OS keychain, nowhere else. You can change this "
                                "later under Settings → Model providers."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(title);
    layout->addWidget(intro);
    m_banner = new MessageBanner(this);
    m_banner->setObjectName(QStringLiteral("firstRunBanner"));
    layout->addWidget(m_banner);

    auto *form = new QFormLayout;
    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("firstRunKind"));
    m_kind->addItem(tr("Anthropic API key"), int(ProviderEndpoint::Kind::Anthropic));
    m_kind->addItem(tr("OpenAI-compatible server (Ollama, vLLM, llama.cpp)"), int(ProviderEndpoint::Kind::OpenAi));
    form->addRow(tr("Provider:"), m_kind);
    layout->addLayout(form);

    m_pages = new QStackedWidget(this);
    auto *anthropic = new QWidget(m_pages);
    auto *af = new QFormLayout(anthropic);
    af->setContentsMargins(0, 0, 0, 0);
    m_anthropicKey = new QLineEdit(anthropic);
    m_anthropicKey->setObjectName(QStringLiteral("firstRunAnthropicKey"));
    m_anthropicKey->setEchoMode(QLineEdit::Password);
    m_anthropicKey->setContextMenuPolicy(Qt::NoContextMenu);
    m_anthropicKey->setPlaceholderText(tr("sk-ant-…"));
    m_anthropicUrl = new QLabel(anthropic);
    m_anthropicUrl->setObjectName(QStringLiteral("firstRunAnthropicUrl"));
    m_anthropicUrl->setWordWrap(true);
    af->addRow(tr("API key:"), m_anthropicKey);
    af->addRow(QString(), m_anthropicUrl);
    m_pages->addWidget(anthropic);

    auto *openAi = new QWidget(m_pages);
    auto *of = new QFormLayout(openAi);
    of->setContentsMargins(0, 0, 0, 0);
    m_openAiUrl = new QLineEdit(kOllamaUrl, openAi);
    m_openAiUrl->setObjectName(QStringLiteral("firstRunOpenAiUrl"));
    m_openAiUrlSource = new QLabel(openAi);
    m_openAiUrlSource->setObjectName(QStringLiteral("firstRunOpenAiUrlSource"));
    m_openAiUrlSource->setWordWrap(true);
    m_openAiUrlSource->hide();
    m_openAiKey = new QLineEdit(openAi);
    m_openAiKey->setObjectName(QStringLiteral("firstRunOpenAiKey"));
    m_openAiKey->setEchoMode(QLineEdit::Password);
    m_openAiKey->setContextMenuPolicy(Qt::NoContextMenu);
    m_openAiKey->setPlaceholderText(tr("Optional (a local Ollama needs none)"));
    m_openAiModel = new QLineEdit(openAi);
    m_openAiModel->setObjectName(QStringLiteral("firstRunOpenAiModel"));
    m_openAiModel->setPlaceholderText(tr("e.g. llama3.2"));
    of->addRow(tr("Base URL:"), m_openAiUrl);
    of->addRow(QString(), m_openAiUrlSource);
    of->addRow(tr("API key:"), m_openAiKey);
    of->addRow(tr("Model:"), m_openAiModel);
    m_pages->addWidget(openAi);
    layout->addWidget(m_pages);

    auto *buttons = new QHBoxLayout;
    auto *test = new QPushButton(tr("Test connection"), this);
    test->setObjectName(QStringLiteral("firstRunTest"));
    m_testResult = new QLabel(this);
    m_testResult->setObjectName(QStringLiteral("firstRunTestResult"));
    m_testResult->setWordWrap(true);
    auto *save = new QPushButton(tr("Save and use"), this);
    save->setObjectName(QStringLiteral("firstRunSave"));
    buttons->addWidget(test);
    buttons->addWidget(m_testResult, 1);
    buttons->addWidget(save);
    layout->addLayout(buttons);

    connect(m_kind, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_pages->setCurrentIndex(index);
        m_testResult->clear();
    });
    connect(test, &QPushButton::clicked, this, &FirstRunPanel::testConnection);
    connect(save, &QPushButton::clicked, this, &FirstRunPanel::save);
    hide(); // until the backend says no provider is usable
}

ProviderEndpoint::Kind FirstRunPanel::kind() const
{
    return ProviderEndpoint::Kind(m_kind->currentData().toInt());
}

void FirstRunPanel::refresh()
{
    using Status3 = std::tuple<ProviderStatus, ProviderStatus, bool>;
    m_bridge.call<Status3>(
        this,
        [](Backend &b) -> Result<Status3> {
            return Status3{b.providerStatus(ProviderEndpoint::Kind::Anthropic),
                           b.providerStatus(ProviderEndpoint::Kind::OpenAi), hasUsableProvider(b.config())};
        },
        [this](Result<Status3> r) {
            if (r)
                applyStatus(std::get<0>(*r), std::get<1>(*r), std::get<2>(*r));
        });
}

void FirstRunPanel::applyStatus(const ProviderStatus &anthropic, const ProviderStatus &openAi, bool usable)
{
    const QString url = anthropic.baseUrl.toString(QUrl::RemoveUserInfo);
    m_anthropicUrl->setText(anthropic.urlEnvVar.isEmpty()
                                ? tr("Requests go to %1.").arg(url)
                                : tr("Requests go to %1 (set by the environment variable %2).").arg(url, anthropic.urlEnvVar));
    m_openAiUrlFromEnv = !openAi.urlEnvVar.isEmpty();
    if (m_openAiUrlFromEnv)
        m_openAiUrl->setText(openAi.baseUrl.toString());
    m_openAiUrl->setReadOnly(m_openAiUrlFromEnv);
    m_openAiUrlSource->setText(ProviderUi::urlSourceText(openAi));
    m_openAiUrlSource->setVisible(m_openAiUrlFromEnv);
    setVisible(!usable);
}

void FirstRunPanel::testConnection()
{
    if (kind() == ProviderEndpoint::Kind::Anthropic)
        ProviderUi::testConnection(m_bridge, m_testResult, ProviderEndpoint::Kind::Anthropic, QUrl(), m_anthropicKey->text());
    else
        ProviderUi::testConnection(m_bridge, m_testResult, ProviderEndpoint::Kind::OpenAi,
                                   m_openAiUrlFromEnv ? QUrl() : QUrl(m_openAiUrl->text().trimmed()), m_openAiKey->text());
}

void FirstRunPanel::save()
{
    if (m_saving)
        return;
    const ProviderEndpoint::Kind k = kind();
    QString keyEntry = Config::kAnthropicKeyEntry, key = m_anthropicKey->text();
    QUrl url;
    if (k == ProviderEndpoint::Kind::Anthropic) {
        if (key.isEmpty()) {
            m_banner->showError(tr("Enter the API key."));
            return;
        }
    } else {
        keyEntry = Config::kOpenAiKeyEntry;
        key = m_openAiKey->text();
        const QString model = m_openAiModel->text().trimmed();
        if (!m_openAiUrlFromEnv) {
            url = QUrl(m_openAiUrl->text().trimmed());
            if (endpointProblem(url, QStringLiteral("-")) == EndpointProblem::NoBaseUrl) {
                m_banner->showError(tr("Enter a URL such as %1.").arg(kOllamaUrl));
                return;
            }
        }
        if (model.isEmpty()) {
            m_banner->showError(tr("Enter the model to use, e.g. llama3.2."));
            return;
        }
        // The desktop settings: the URL (unless the environment decides it), the model offered
        // in the designers and used for new agents. A claude-named model served here gets the
        // prefix that sends it to this server.
        AppSettings s = AppSettings::load();
        if (!m_openAiUrlFromEnv)
            s.openAiBaseUrl = url.toString();
        if (!s.openAiModels.contains(model))
            s.openAiModels.prepend(model);
        s.defaultModel = model.startsWith(QStringLiteral("claude")) ? QStringLiteral("openai/") + model : model;
        s.save();
    }
    m_saving = true;
    m_anthropicKey->clear();
    m_openAiKey->clear();
    m_banner->clear();
    m_bridge.callAsync<Ok>(
        this,
        [keyEntry, url, key](Backend &b, Callback<Ok> done) {
            b.setProviderDefaults(keyEntry, url, QString());
            if (key.isEmpty())
                return done(Ok{});
            b.storeProviderKey(keyEntry, key, std::move(done));
        },
        [this, k](Result<Ok> r) {
            m_saving = false;
            if (!r) {
                m_banner->showError(tr("The key was not saved: no keychain is available (%1). Vivarium keeps "
                                       "keys nowhere else.")
                                        .arg(r.error().message()));
                return;
            }
            using Usable = std::pair<bool, EndpointProblem>;
            m_bridge.call<Usable>(
                this,
                [k](Backend &b) -> Result<Usable> { return Usable{hasUsableProvider(b.config()), b.providerStatus(k).problem}; },
                [this](Result<Usable> u) {
                    if (!u)
                        return;
                    if (u->first) {
                        hide();
                        Q_EMIT configured();
                        return;
                    }
                    m_banner->showError(u->second == EndpointProblem::NoApiKey
                                            ? tr("Saved, but this server needs an API key.")
                                            : tr("Saved, but the provider is still not usable."));
                });
        });
}

} // namespace viv
