#pragma once

#include "ListEditorPage.h"

#include <QHash>
#include <QJsonObject>

class QProgressBar;

namespace viv {

class KeyValueEditor;

// Environments: networking (unrestricted, or limited to allowed hosts), packages per package
// manager, the base template, metadata. Save creates or updates; archive and delete ask first.
// Above the form: the build state of the guest image every sandbox boots from (progress, log,
// "Build now"). Below it, the package layer of the selected environment (its `config.packages`
// installed once on top of the image): state, its build log, "Build now" / "Rebuild".
class EnvironmentsPage : public ListEditorPage
{
    Q_OBJECT
public:
    EnvironmentsPage(BackendBridge &bridge, QWidget *parent = nullptr);
    QJsonObject formParams() const;

public Q_SLOTS:
    void reload();
    void newEnvironment();
    void openEnvironment(const QString &id);
    void save();
    void archive();
    void remove();
    void reloadGuestImage();
    void buildGuestImage();
    void showBuildLog();
    // The selected environment's package layer, from its stored config.
    void reloadLayer();
    // "Build now" (EnvironmentLayers::ensure) or "Rebuild" (EnvironmentLayers::rebuild).
    void buildLayer();
    void showLayerLog();

private:
    void fill(const QJsonObject &env);
    void upsert(const QString &id, const QJsonObject &env, bool atEnd);
    void showGuestImage(const QString &state, int percent, const QString &text);
    void showLayer(const QString &state, const QString &text);
    void openLogDialog(const QString &path, const QString &title, const QString &dialogName,
                       const QString &textName);

    QListWidget *m_list = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_description = nullptr;
    QComboBox *m_networking = nullptr;
    QPlainTextEdit *m_hosts = nullptr;
    QCheckBox *m_allowMcp = nullptr;
    QCheckBox *m_allowPackages = nullptr;
    QHash<QString, QLineEdit *> m_packages;
    QLineEdit *m_template = nullptr;
    KeyValueEditor *m_metadata = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_archive = nullptr;
    QPushButton *m_delete = nullptr;
    QLabel *m_imageState = nullptr;
    QProgressBar *m_imageProgress = nullptr;
    QPushButton *m_imageLog = nullptr;
    QPushButton *m_imageBuild = nullptr;
    QString m_imageLogPath;
    QString m_imageVersion;
    QLabel *m_layerState = nullptr;
    QProgressBar *m_layerProgress = nullptr;
    QPushButton *m_layerLog = nullptr;
    QPushButton *m_layerBuild = nullptr;
    QJsonObject m_layerConfig;  // the stored config of the environment the layer box shows
    QString m_layerHash;        // empty: no packages (or nothing selected)
    QString m_layerLogPath;
    QString m_layerStateName;   // BackendBridge::environmentLayerStateName()
    bool m_layersAvailable = true;
    int m_layerGeneration = 0;  // answers for an environment no longer shown are dropped
    QString m_id;
    QJsonObject m_loadedMetadata;
    QString m_loadedName;
};

} // namespace viv
