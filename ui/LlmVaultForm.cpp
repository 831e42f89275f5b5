#include "LlmVaultForm.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "providers/ProviderSetup.h"
#include "services/VaultService.h"

#include <QComboBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace viv {

namespace {
const QString kProviderKey = QStringLiteral("vivarium.llm.provider");
const QString kBaseUrlKey = QStringLiteral("vivarium.llm.base_url");

// The vault's first active static_bearer credential, as the runtime picks the model key.
QString keyCredentialOf(Backend &b, const QString &vaultId)
{
    auto all = BackendBridge::allPages([&](const PageRequest &req) {
        PageRequest r = req;
        r.newestFirst = false;
        return b.vaults().listCredentials(vaultId, r, false);
    });
    if (all)
        for (const QJsonValue &v : std::as_const(*all)) {
            const QJsonObject c = v.toObject();
            if (c.value(QStringLiteral("auth")).toObject().value(QStringLiteral("type")).toString() == u"static_bearer")
                return c.value(QStringLiteral("id")).toString();
        }
    return {};
}
} // namespace

LlmVaultForm::LlmVaultForm(BackendBridge &bridge, MessageBanner *banner, QWidget *parent)
    : QGroupBox(tr("Model provider (LLM vault)"), parent), m_bridge(bridge), m_banner(banner)
{
    setObjectName(QStringLiteral("llmVaultForm"));
    auto *form = new QFormLayout(this);
    m_provider = new QComboBox(this);
    m_provider->setObjectName(QStringLiteral("llmProvider"));
    // As narrow as a short item: the window stays usable at 800×600 (the list opens wider).
    m_provider->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_provider->setMinimumContentsLength(8);
    m_provider->addItem(tr("None (not a model provider)"), QString());
    m_provider->addItem(tr("Anthropic"), QStringLiteral("anthropic"));
    m_provider->addItem(tr("OpenAI-compatible"), QStringLiteral("openai"));
    m_baseUrl = new QLineEdit(this);
    m_baseUrl->setObjectName(QStringLiteral("llmBaseUrl"));
    m_baseUrl->setPlaceholderText(tr("Empty: the default URL of the format"));
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("llmKey"));
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setContextMenuPolicy(Qt::NoContextMenu);
    m_key->setDragEnabled(false);
    m_keyHint = new QLabel(this);
    m_keyHint->setObjectName(QStringLiteral("llmKeyHint"));
    m_keyHint->setWordWrap(true);
    m_save = new QPushButton(tr("Save provider"), this);
    m_save->setObjectName(QStringLiteral("saveLlm"));
    form->addRow(tr("Format:"), m_provider);
    form->addRow(tr("Base URL:"), m_baseUrl);
    form->addRow(tr("API key:"), m_key);
    form->addRow(QString(), m_keyHint);
    form->addRow(QString(), m_save);
    auto *note = new QLabel(tr("Sessions this vault is attached to send their model requests here."), this);
    note->setWordWrap(true);
    form->addRow(note);
    connect(m_provider, &QComboBox::currentIndexChanged, this, &LlmVaultForm::updateFields);
    connect(m_save, &QPushButton::clicked, this, &LlmVaultForm::save);
    setVault(QString());
}

void LlmVaultForm::updateFields()
{
    const bool llm = !m_provider->currentData().toString().isEmpty();
    m_baseUrl->setEnabled(llm);
    m_key->setEnabled(llm);
    m_key->setPlaceholderText(m_keyCredentialId.isEmpty() ? tr("Optional (a local Ollama needs none)")
                                                          : tr("•••••• stored in the keychain — type to replace"));
    m_keyHint->setText(m_keyCredentialId.isEmpty()
                           ? tr("No key stored. A key goes to the OS keychain and cannot be read back here.")
                           : tr("A key is stored (credential %1). Leave the field empty to keep it.").arg(m_keyCredentialId));
}

void LlmVaultForm::setVault(const QString &vaultId)
{
    m_vaultId = vaultId;
    m_keyCredentialId.clear();
    m_key->clear();
    m_baseUrl->clear();
    m_provider->setCurrentIndex(0);
    setEnabled(!vaultId.isEmpty());
    updateFields();
    if (vaultId.isEmpty())
        return;
    using Loaded = std::pair<QJsonObject, QString>;
    m_bridge.call<Loaded>(
        this,
        [vaultId](Backend &b) -> Result<Loaded> {
            auto vault = b.vaults().retrieve(vaultId);
            if (!vault)
                return vault.error();
            return Loaded{*vault, keyCredentialOf(b, vaultId)};
        },
        [this, vaultId](Result<Loaded> r) {
            if (vaultId != m_vaultId || !r)
                return;
            const QJsonObject md = r->first.value(QStringLiteral("metadata")).toObject();
            m_provider->setCurrentIndex(std::max(0, m_provider->findData(md.value(kProviderKey).toString())));
            m_baseUrl->setText(md.value(kBaseUrlKey).toString());
            m_keyCredentialId = r->second;
            updateFields();
        });
}

void LlmVaultForm::save()
{
    if (m_vaultId.isEmpty())
        return;
    const QString provider = m_provider->currentData().toString();
    const QString baseUrl = m_baseUrl->text().trimmed();
    const QString key = provider.isEmpty() ? QString() : m_key->text();
    if (!provider.isEmpty() && !baseUrl.isEmpty()
        && endpointProblem(QUrl(baseUrl), QStringLiteral("-")) == EndpointProblem::NoBaseUrl) {
        m_banner->showError(tr("The base URL must be an http:// or https:// URL, e.g. http://127.0.0.1:11434/v1."));
        return;
    }
    // Metadata patch: null removes a key (a vault that is no longer a model provider).
    const QJsonObject metadata{
        {kProviderKey, provider.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(provider)},
        {kBaseUrlKey, provider.isEmpty() || baseUrl.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(baseUrl)}};
    const QString vaultId = m_vaultId;
    m_key->clear(); // the key leaves the widget now, whatever the outcome
    m_save->setEnabled(false);
    m_bridge.callAsync<QJsonObject>(
        this,
        [vaultId, metadata, key](Backend &b, Callback<QJsonObject> done) {
            auto updateVault = [&b, vaultId, metadata, done](Result<QJsonObject> keyResult) {
                if (!keyResult)
                    return done(keyResult.error()); // nothing changed: the key went nowhere
                done(b.vaults().update(vaultId, QJsonObject{{QStringLiteral("metadata"), metadata}}));
            };
            if (key.isEmpty())
                return updateVault(QJsonObject());
            // The key first (keychain): without a keychain nothing is written at all.
            const QString credentialId = keyCredentialOf(b, vaultId);
            QJsonObject auth{{QStringLiteral("type"), QStringLiteral("static_bearer")}, {QStringLiteral("token"), key}};
            if (!credentialId.isEmpty())
                return b.vaults().updateCredential(vaultId, credentialId, QJsonObject{{QStringLiteral("auth"), auth}},
                                                   updateVault);
            auth.insert(QStringLiteral("mcp_server_url"), kKeyCredentialUrl);
            b.vaults().createCredential(vaultId,
                                        QJsonObject{{QStringLiteral("display_name"), QStringLiteral("Model API key")},
                                                    {QStringLiteral("auth"), auth}},
                                        updateVault);
        },
        [this, vaultId](Result<QJsonObject> r) {
            m_save->setEnabled(true);
            if (!r) {
                if (r.error().kind() == ApiError::Kind::Unavailable)
                    m_banner->showError(tr("No keychain is available, so the key was not stored and the vault was "
                                           "not changed (Vivarium never keeps secrets anywhere else).\n\nDetails: %1")
                                            .arg(r.error().message()));
                else
                    m_banner->showError(r.error());
                return;
            }
            m_banner->showInfo(tr("Model provider saved."));
            setVault(vaultId);
            Q_EMIT saved(vaultId);
        });
}

} // namespace viv
