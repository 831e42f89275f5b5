#pragma once

#include <QObject>
#include <QProcess>
#include <QString>

#include <functional>

namespace viv {

// The guest image cache: <imageDir>/<version>/{kernel.img,initrd.img,base.qcow2,workspace.qcow2}
// where <version> is a hash of every file of the recipe (resources/guest). A changed recipe
// means a new version and one rebuild; an unchanged one is never rebuilt. The build runs
// resources/guest/build-image.sh as an asynchronous QProcess (the event loop never waits),
// logs to <imageDir>/<version>.log and the `vivarium.sandbox.image` category, and reports
// progress through statusChanged() for the GUI.
class GuestImage : public QObject
{
    Q_OBJECT
public:
    enum class State { Unknown, Building, Ready, Failed };
    Q_ENUM(State)

    GuestImage(QString recipeDir, QString imageDir, QObject *parent = nullptr);
    ~GuestImage() override;

    // The recipe's version stamp (hash of its files); empty when the recipe is missing.
    const QString &version() const { return m_version; }
    QString dir() const;       // <imageDir>/<version>
    QString kernel() const { return dir() + QStringLiteral("/kernel.img"); } // vmlinux (PVH) or bzImage
    QString initrd() const { return dir() + QStringLiteral("/initrd.img"); }
    QString baseDisk() const { return dir() + QStringLiteral("/base.qcow2"); }
    QString workspaceTemplate() const { return dir() + QStringLiteral("/workspace.qcow2"); }
    QString logPath() const;

    State state() const { return m_state; }
    int progress() const { return m_progress; }
    QString statusText() const { return m_statusText; }

    // Calls `done(error)` once the image is ready (error empty) or failed; builds when needed.
    // Several callers may wait for the same build.
    void ensure(std::function<void(const QString &error)> done);

    static QString hashRecipe(const QString &recipeDir);

Q_SIGNALS:
    void statusChanged(viv::GuestImage::State state, int percent, const QString &text);

private:
    void startBuild();
    void finish(const QString &error);
    void setStatus(State s, int percent, const QString &text);
    QString m_recipeDir;
    QString m_imageDir;
    QString m_version;
    State m_state = State::Unknown;
    int m_progress = 0;
    QString m_statusText;
    QProcess *m_process = nullptr;
    QByteArray m_lineBuffer;
    QList<std::function<void(const QString &)>> m_waiters;
};

} // namespace viv
