#include "VaultsPage.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "LlmVaultForm.h"
#include "McpOAuthValidator.h"
#include "UnsavedChanges.h"
#include "Widgets.h"
#include "services/VaultService.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

namespace viv {

namespace {
const QString kBearer = QStringLiteral("static_bearer");
const QString kEnvVar = QStringLiteral("environment_variable");
const QString kOAuth = QStringLiteral("mcp_oauth");

QString secretKey(const QString &type)
{
    if (type == kBearer)
        return QStringLiteral("token");
    if (type == kEnvVar)
        return QStringLiteral("secret_value");
    return QStringLiteral("access_token");
}
} // namespace

VaultsPage::VaultsPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("vaultsPage"), QStringLiteral("vaultBanner"), parent)
{
    pageLayout()->insertWidget(0, banner());
    auto [left, leftLayout] = addColumn();
    m_vaults = named(new QListWidget(left), QStringLiteral("vaultList"));
    m_vaultName = named(new QLineEdit(left), QStringLiteral("vaultName"));
    m_vaultName->setPlaceholderText(tr("New vault name"));
    auto *create = named(new QPushButton(tr("Create vault"), left), QStringLiteral("createVault"));
    m_archiveVault = named(new QPushButton(tr("Archive vault…"), left), QStringLiteral("archiveVault"));
    leftLayout->addWidget(new QLabel(tr("Vaults"), left));
    leftLayout->addWidget(m_vaults, 1);
    leftLayout->addWidget(m_vaultName);
    auto *vb = new QHBoxLayout;
    vb->addWidget(create);
    vb->addWidget(m_archiveVault);
    leftLayout->addLayout(vb);

    auto [middle, middleLayout] = addColumn();
    m_credentials = named(new QListWidget(middle), QStringLiteral("credentialList"));
    auto *newCred = named(new QPushButton(tr("New credential"), middle), QStringLiteral("newCredential"));
    middleLayout->addWidget(new QLabel(tr("Credentials"), middle));
    middleLayout->addWidget(m_credentials, 1);
    middleLayout->addWidget(newCred);
    m_llm = new LlmVaultForm(m_bridge, banner(), middle);
    middleLayout->addWidget(m_llm);

    auto *right = new QGroupBox(splitter());
    auto *rightLayout = new QVBoxLayout(right);
    m_credentialTitle = named(new QLabel(tr("New credential"), right), QStringLiteral("credentialTitle"));
    rightLayout->addWidget(m_credentialTitle);
    auto *form = new QFormLayout;
    m_type = named(new QComboBox(right), QStringLiteral("credentialType"));
    // As narrow as a short item: the window stays usable at 800×600 (the list opens wider).
    m_type->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_type->setMinimumContentsLength(8);
    m_type->addItem(tr("Bearer token for an MCP server"), kBearer);
    m_type->addItem(tr("Environment variable (API key)"), kEnvVar);
    m_type->addItem(tr("MCP OAuth access token"), kOAuth);
    m_displayName = named(new QLineEdit(right), QStringLiteral("credentialName"));
    m_url = named(new QLineEdit(right), QStringLiteral("credentialUrl"));
    m_url->setPlaceholderText(QStringLiteral("https://mcp.example.com/mcp"));
    m_secretName = named(new QLineEdit(right), QStringLiteral("credentialSecretName"));
    m_secretName->setPlaceholderText(QStringLiteral("EXAMPLE_API_KEY"));
    m_hosts = named(new QPlainTextEdit(right), QStringLiteral("credentialHosts"));
    m_hosts->setPlaceholderText(tr("Hosts it may be sent to, one per line (empty: any host)"));
    m_hosts->setMaximumHeight(70);
    m_secret = named(new QLineEdit(right), QStringLiteral("credentialSecret"));
    m_secret->setEchoMode(QLineEdit::Password);
    // Write-only: no copy/drag out of the field, no context menu.
    m_secret->setContextMenuPolicy(Qt::NoContextMenu);
    m_secret->setDragEnabled(false);
    m_secretHint = named(new QLabel(right), QStringLiteral("credentialSecretHint"));
    m_secretHint->setWordWrap(true);
    form->addRow(tr("&Type:"), m_type);
    form->addRow(tr("&Name:"), m_displayName);
    form->addRow(tr("MCP server &URL:"), m_url);
    form->addRow(tr("&Variable name:"), m_secretName);
    form->addRow(tr("Allowed hosts:"), m_hosts);
    form->addRow(tr("&Secret:"), m_secret);
    form->addRow(QString(), m_secretHint);
    m_validate = new McpOAuthValidator(m_bridge, right);
    form->addRow(QString(), m_validate);
    rightLayout->addLayout(form);
    rightLayout->addStretch();
    m_deleteCredential = named(new QPushButton(tr("Delete…"), right), QStringLiteral("deleteCredential"));
    m_saveCredential = named(new QPushButton(tr("Save"), right), QStringLiteral("saveCredential"));
    m_unsaved = new UnsavedChanges(
        this, QStringLiteral("credentialUnsaved"), [this] { return credentialSnapshot(); },
        [this] {
            const QString typed = m_displayName->text().trimmed();
            if (m_credentialId.isEmpty())
                return typed.isEmpty() ? tr("The new credential") : tr("The new credential “%1”").arg(typed);
            return tr("The credential “%1”").arg(m_loadedName);
        },
        [this] { saveCredential(); });
    m_unsaved->watch(right);
    m_unsaved->setList(m_credentials, [this] { return m_credentialId; });
    rightLayout->addLayout(buttonRow({m_deleteCredential}, {m_unsaved->marker(), m_saveCredential}));
    setColumnSizes({220, 260, 560}, false);

    auto updateFields = [this] {
        const QString type = m_type->currentData().toString();
        m_url->setEnabled(type != kEnvVar && m_credentialId.isEmpty());
        m_secretName->setEnabled(type == kEnvVar && m_credentialId.isEmpty());
        m_hosts->setEnabled(type == kEnvVar);
    };
    connect(m_type, &QComboBox::currentIndexChanged, this, updateFields);
    connect(create, &QPushButton::clicked, this, &VaultsPage::createVault);
    connect(m_archiveVault, &QPushButton::clicked, this, &VaultsPage::archiveVault);
    connect(newCred, &QPushButton::clicked, this, [this] { m_unsaved->proceed([this] { newCredential(); }); });
    connect(m_saveCredential, &QPushButton::clicked, this, &VaultsPage::saveCredential);
    connect(m_deleteCredential, &QPushButton::clicked, this, &VaultsPage::deleteCredential);
    // Opening another vault or credential replaces the credential form: ask first when it has
    // unsaved changes; Cancel puts the list back.
    connect(m_vaults, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        if (!item || item->data(Qt::UserRole).toString() == m_vaultId)
            return;
        const QString id = item->data(Qt::UserRole).toString();
        if (!m_unsaved->proceed([this, id] { openVault(id); }))
            QTimer::singleShot(0, this, [this] { selectItem(m_vaults, m_vaultId); });
    });
    connect(m_credentials, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        if (!item)
            return;
        const QJsonObject credential = item->data(Qt::UserRole).toJsonObject();
        if (credential.value(QStringLiteral("id")).toString() == m_credentialId)
            return;
        if (!m_unsaved->proceed([this, credential] { openCredential(credential); }))
            QTimer::singleShot(0, this, [this] {
                const QSignalBlocker block(m_credentials);
                m_credentials->setCurrentItem(nullptr);
                for (int row = 0; row < m_credentials->count(); ++row)
                    if (m_credentials->item(row)->data(Qt::UserRole).toJsonObject().value(QStringLiteral("id")).toString()
                        == m_credentialId)
                        m_credentials->setCurrentRow(row);
            });
    });
    connect(&m_bridge, &BackendBridge::vaultChanged, this,
            [this](const QString &, const QJsonObject &vault) { upsertVault(vault, false); });
    connect(&m_bridge, &BackendBridge::credentialChanged, this,
            [this](const QString &vaultId, const QString &, const QJsonObject &) {
                if (vaultId == m_vaultId)
                    loadCredentials();
            });
    connect(&m_bridge, &BackendBridge::credentialRemoved, this, [this](const QString &vaultId, const QString &) {
        if (vaultId == m_vaultId)
            loadCredentials();
    });
    newCredential();
    updateFields();
    m_credentials->setEnabled(false);
}

QJsonObject VaultsPage::credentialSnapshot() const
{
    // Whether a secret was typed, never the secret.
    return {{QStringLiteral("type"), m_type->currentData().toString()},
            {QStringLiteral("name"), m_displayName->text()},
            {QStringLiteral("url"), m_url->text()},
            {QStringLiteral("secret_name"), m_secretName->text()},
            {QStringLiteral("hosts"), m_hosts->toPlainText()},
            {QStringLiteral("secret_typed"), !m_secret->text().isEmpty()}};
}

void VaultsPage::showBackendError(const ApiError &error)
{
    if (error.kind() == ApiError::Kind::Unavailable)
        banner()->showError(tr("No keychain is available, so the secret was not stored (Vivarium "
                               "never keeps secrets anywhere else). Start a Secret Service such as "
                               "GNOME Keyring or KWallet and try again.\n\nDetails: %1")
                                .arg(error.message()));
    else
        ListEditorPage::showBackendError(error);
}

void VaultsPage::upsertVault(const QJsonObject &vault, bool atEnd)
{
    upsertItem(m_vaults, vault.value(QStringLiteral("id")).toString(),
               vault.value(QStringLiteral("display_name")).toString(),
               !vault.value(QStringLiteral("archived_at")).isNull(), atEnd, QString());
}

void VaultsPage::reload()
{
    reloadList(
        m_vaults, [](Backend &b, const PageRequest &req) { return b.vaults().list(req, false); },
        [this](const QJsonObject &vault) { upsertVault(vault, true); });
}

void VaultsPage::createVault()
{
    const QString name = m_vaultName->text().trimmed();
    if (name.isEmpty()) {
        banner()->showError(tr("Give the vault a name."));
        return;
    }
    const QJsonObject params{{QStringLiteral("display_name"), name}};
    request<QJsonObject>(
        [params](Backend &b) { return b.vaults().create(params); },
        [this](const QJsonObject &r) {
            m_vaultName->clear();
            const QString id = r.value(QStringLiteral("id")).toString();
            upsertVault(r, false);
            selectItem(m_vaults, id, false);
            banner()->showInfo(tr("Vault created."));
        });
}

void VaultsPage::openVault(const QString &id)
{
    m_vaultId = id;
    m_llm->setVault(id);
    m_credentials->setEnabled(true);
    newCredential();
    loadCredentials();
}

void VaultsPage::loadCredentials()
{
    const QString vaultId = m_vaultId;
    m_bridge.call<QJsonArray>(
        this,
        [vaultId](Backend &b) -> Result<QJsonArray> {
            return BackendBridge::allPages([&](const PageRequest &req) { return b.vaults().listCredentials(vaultId, req, false); });
        },
        [this, vaultId](Result<QJsonArray> r) {
            if (vaultId != m_vaultId)
                return;
            if (!r) {
                showBackendError(r.error());
                return;
            }
            const QSignalBlocker block(m_credentials);
            m_credentials->clear();
            for (const auto &v : *r) {
                const QJsonObject c = v.toObject();
                auto *item = new QListWidgetItem(c.value(QStringLiteral("display_name")).toString(tr("(unnamed)")));
                item->setData(Qt::UserRole, c); // the non-secret document: no secret exists here
                m_credentials->addItem(item);
                if (c.value(QStringLiteral("id")).toString() == m_credentialId)
                    m_credentials->setCurrentItem(item);
            }
        });
}

void VaultsPage::newCredential()
{
    m_credentialId.clear();
    m_validate->setCredential(m_vaultId, QString(), QString());
    m_credentialTitle->setText(tr("New credential"));
    m_type->setEnabled(true);
    m_displayName->clear();
    m_url->clear();
    m_secretName->clear();
    m_hosts->clear();
    m_secret->clear();
    m_secret->setPlaceholderText(tr("Stored in the OS keychain; never shown again"));
    m_secretHint->setText(tr("Secrets are write-only: after saving they cannot be read back here."));
    m_deleteCredential->setEnabled(false);
    m_saveCredential->setEnabled(!m_vaultId.isEmpty());
    m_url->setEnabled(m_type->currentData().toString() != kEnvVar);
    m_secretName->setEnabled(m_type->currentData().toString() == kEnvVar);
    const QSignalBlocker block(m_credentials);
    m_credentials->setCurrentItem(nullptr);
    m_loadedName.clear();
    m_unsaved->markClean();
}

void VaultsPage::openCredential(const QJsonObject &c)
{
    m_credentialId = c.value(QStringLiteral("id")).toString();
    const QJsonObject auth = c.value(QStringLiteral("auth")).toObject();
    const QString type = auth.value(QStringLiteral("type")).toString();
    m_credentialTitle->setText(tr("Credential %1").arg(m_credentialId));
    m_validate->setCredential(m_vaultId, m_credentialId, type);
    m_type->setCurrentIndex(std::max(0, m_type->findData(type)));
    m_type->setEnabled(false);
    m_displayName->setText(c.value(QStringLiteral("display_name")).toString());
    m_url->setText(auth.value(QStringLiteral("mcp_server_url")).toString());
    m_url->setEnabled(false);
    m_secretName->setText(auth.value(QStringLiteral("secret_name")).toString());
    m_secretName->setEnabled(false);
    QStringList hosts;
    for (const auto &h : auth.value(QStringLiteral("networking")).toObject().value(QStringLiteral("allowed_hosts")).toArray())
        hosts.append(h.toString());
    m_hosts->setPlainText(hosts.join(u'\n'));
    // The secret itself is never fetched: the field stays empty and only replaces it.
    m_secret->clear();
    m_secret->setPlaceholderText(tr("•••••• stored in the keychain — type to replace"));
    m_secretHint->setText(tr("The stored secret cannot be shown. Leave the field empty to keep it."));
    m_deleteCredential->setEnabled(true);
    m_saveCredential->setEnabled(true);
    m_loadedName = c.value(QStringLiteral("display_name")).toString();
    m_unsaved->markClean();
}

QJsonObject VaultsPage::authParams(bool forUpdate, QString *error) const
{
    const QString type = m_type->currentData().toString();
    QJsonObject auth{{QStringLiteral("type"), type}};
    const QString secret = m_secret->text();
    if (!secret.isEmpty())
        auth.insert(secretKey(type), secret);
    else if (!forUpdate) {
        *error = tr("Enter the secret.");
        return {};
    }
    if (type == kEnvVar) {
        QJsonArray hosts;
        for (const QString &h : m_hosts->toPlainText().split(u'\n', Qt::SkipEmptyParts))
            if (!h.trimmed().isEmpty())
                hosts.append(h.trimmed());
        auth.insert(QStringLiteral("networking"),
                    hosts.isEmpty() ? QJsonObject{{QStringLiteral("type"), QStringLiteral("unrestricted")}}
                                    : QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")},
                                                  {QStringLiteral("allowed_hosts"), hosts}});
        if (!forUpdate)
            auth.insert(QStringLiteral("secret_name"), m_secretName->text().trimmed());
    } else if (!forUpdate) {
        auth.insert(QStringLiteral("mcp_server_url"), m_url->text().trimmed());
    }
    return auth;
}

void VaultsPage::saveCredential()
{
    if (m_vaultId.isEmpty()) {
        banner()->showError(tr("Choose or create a vault first."));
        m_unsaved->saveFailed();
        return;
    }
    QString error;
    const bool update = !m_credentialId.isEmpty();
    const QJsonObject auth = authParams(update, &error);
    if (!error.isEmpty()) {
        banner()->showError(error);
        m_unsaved->saveFailed();
        return;
    }
    QJsonObject params{{QStringLiteral("display_name"), m_displayName->text().trimmed()}};
    if (!update || auth.size() > 1)
        params.insert(QStringLiteral("auth"), auth);
    const QString vaultId = m_vaultId, credentialId = m_credentialId;
    // The secret leaves the widget now; the field is cleared whatever the outcome.
    m_secret->clear();
    requestAsync<QJsonObject>(
        [vaultId, credentialId, params](Backend &b, Callback<QJsonObject> done) {
            if (credentialId.isEmpty())
                b.vaults().createCredential(vaultId, params, std::move(done));
            else
                b.vaults().updateCredential(vaultId, credentialId, params, std::move(done));
        },
        [this, update](const QJsonObject &r) {
            m_credentialId = r.value(QStringLiteral("id")).toString();
            openCredential(r);
            loadCredentials();
            banner()->showInfo(update ? tr("Credential saved.") : tr("Credential stored in the keychain."));
            m_unsaved->saveSucceeded();
        },
        m_saveCredential);
}

void VaultsPage::deleteCredential()
{
    if (m_credentialId.isEmpty() || !confirm(this, tr("Delete credential"),
                                             tr("Delete this credential and its secret?")))
        return;
    const QString vaultId = m_vaultId, credentialId = m_credentialId;
    requestAsync<QJsonObject>(
        [vaultId, credentialId](Backend &b, Callback<QJsonObject> done) {
            b.vaults().deleteCredential(vaultId, credentialId, std::move(done));
        },
        [this](const QJsonObject &) {
            newCredential();
            loadCredentials();
            banner()->showInfo(tr("Credential deleted."));
        });
}

void VaultsPage::archiveVault()
{
    if (m_vaultId.isEmpty() || !confirm(this, tr("Archive vault"),
                                        tr("Archive this vault? Its secrets are removed from the keychain.")))
        return;
    const QString vaultId = m_vaultId;
    requestAsync<QJsonObject>(
        [vaultId](Backend &b, Callback<QJsonObject> done) { b.vaults().archive(vaultId, std::move(done)); },
        [this](const QJsonObject &) {
            m_vaultId.clear();
            m_llm->setVault(QString());
            m_credentials->clear();
            m_credentials->setEnabled(false);
            newCredential();
            banner()->showInfo(tr("Vault archived."));
        });
}

} // namespace viv
