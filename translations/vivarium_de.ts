<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>FieldLabels</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Beschreibung</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>Systemprompt</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>Werkzeuge</translation>
    </message>
    <message>
        <source>MCP servers</source>
        <translation>MCP-Server</translation>
    </message>
    <message>
        <source>Skills</source>
        <translation>Skills</translation>
    </message>
    <message>
        <source>Metadata</source>
        <translation>Metadaten</translation>
    </message>
    <message>
        <source>Input schema</source>
        <translation>Eingabeschema</translation>
    </message>
    <message>
        <source>Networking</source>
        <translation>Netzwerk</translation>
    </message>
    <message>
        <source>Allowed hosts</source>
        <translation>Erlaubte Hosts</translation>
    </message>
    <message>
        <source>Allow MCP servers</source>
        <translation>MCP-Server erlauben</translation>
    </message>
    <message>
        <source>Allow package managers</source>
        <translation>Paketmanager erlauben</translation>
    </message>
    <message>
        <source>Packages</source>
        <translation>Pakete</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>Umgebung</translation>
    </message>
    <message>
        <source>Vaults</source>
        <translation>Tresore</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>Resources</source>
        <translation>Ressourcen</translation>
    </message>
    <message>
        <source>Mount path</source>
        <translation>Einhängepfad</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>MCP server URL</source>
        <translation>MCP-Server-URL</translation>
    </message>
    <message>
        <source>Variable name</source>
        <translation>Variablenname</translation>
    </message>
    <message>
        <source>Secret</source>
        <translation>Geheimnis</translation>
    </message>
    <message>
        <source>Permission</source>
        <translation>Berechtigung</translation>
    </message>
    <message>
        <source>%1, item %2</source>
        <translation>%1, Eintrag %2</translation>
    </message>
</context>
<context>
    <name>ProviderUi</name>
    <message>
        <source>Anthropic</source>
        <translation>Anthropic</translation>
    </message>
    <message>
        <source>OpenAI-compatible</source>
        <translation>OpenAI-kompatibel</translation>
    </message>
    <message>
        <source>✓ Connected: %1 answers as an %2 server (%3).</source>
        <translation>✓ Verbunden: %1 antwortet als %2-Server (%3).</translation>
    </message>
    <message>
        <source>1 model</source>
        <translation>1 Modell</translation>
    </message>
    <message>
        <source>%1 models</source>
        <translation>%1 Modelle</translation>
    </message>
    <message>
        <source>✗ Key refused: %1 answered HTTP %2. Check the API key.</source>
        <translation>✗ Schlüssel abgelehnt: %1 antwortete mit HTTP %2. Prüfen Sie den API-Schlüssel.</translation>
    </message>
    <message>
        <source>✗ Unreachable: %1 (%2)</source>
        <translation>✗ Nicht erreichbar: %1 (%2)</translation>
    </message>
    <message>
        <source>✗ Not an %1 server: %2 answered HTTP %3, but %4.</source>
        <translation>✗ Kein %1-Server: %2 antwortete mit HTTP %3, aber %4.</translation>
    </message>
    <message>
        <source>✗ %1 answered HTTP %2: %3</source>
        <translation>✗ %1 antwortete mit HTTP %2: %3</translation>
    </message>
    <message>
        <source>no details</source>
        <translation>keine Details</translation>
    </message>
    <message>
        <source>✗ Enter a URL such as http://127.0.0.1:11434/v1</source>
        <translation>✗ Geben Sie eine URL wie http://127.0.0.1:11434/v1 ein</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde …</translation>
    </message>
    <message>
        <source>✗ %1</source>
        <translation>✗ %1</translation>
    </message>
    <message>
        <source>Set by the environment variable %1 — this URL is in use; the one saved here applies only when %1 is not set.</source>
        <translation>Von der Umgebungsvariablen %1 festgelegt — diese URL wird verwendet; die hier gespeicherte gilt nur, wenn %1 nicht gesetzt ist.</translation>
    </message>
    <message>
        <source>The key from the environment variable %1 is in use; a key saved here applies only when %1 is not set.</source>
        <translation>Der Schlüssel aus der Umgebungsvariablen %1 wird verwendet; ein hier gespeicherter Schlüssel gilt nur, wenn %1 nicht gesetzt ist.</translation>
    </message>
    <message>
        <source>A key is stored in the OS keychain.</source>
        <translation>Ein Schlüssel ist im Schlüsselbund des Systems gespeichert.</translation>
    </message>
    <message>
        <source>No key is stored.</source>
        <translation>Kein Schlüssel gespeichert.</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>Not available: %1</source>
        <translation>Nicht verfügbar: %1</translation>
    </message>
    <message>
        <source>Not found: %1</source>
        <translation>Nicht gefunden: %1</translation>
    </message>
    <message>
        <source>Conflict: %1</source>
        <translation>Konflikt: %1</translation>
    </message>
    <message>
        <source>Invalid: %1</source>
        <translation>Ungültig: %1</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>Fehler: %1</translation>
    </message>
    <message>
        <source> — denied</source>
        <translation> — abgelehnt</translation>
    </message>
    <message>
        <source> — failed</source>
        <translation> — fehlgeschlagen</translation>
    </message>
    <message>
        <source>Denied: %1</source>
        <translation>Abgelehnt: %1</translation>
    </message>
    <message>
        <source>Export transcript</source>
        <translation>Verlauf exportieren</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>Sitzung</translation>
    </message>
</context>
<context>
    <name>viv::AgentsPage</name>
    <message>
        <source>(archived)</source>
        <translation>(archiviert)</translation>
    </message>
    <message>
        <source>Show archived</source>
        <translation>Archivierte anzeigen</translation>
    </message>
    <message>
        <source>New agent</source>
        <translation>Neuer Agent</translation>
    </message>
    <message>
        <source>Design</source>
        <translation>Entwurf</translation>
    </message>
    <message>
        <source>JSON</source>
        <translation>JSON</translation>
    </message>
    <message>
        <source>History</source>
        <translation>Verlauf</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Verwerfen</translation>
    </message>
    <message>
        <source>Archive…</source>
        <translation>Archivieren …</translation>
    </message>
    <message>
        <source>e.g. Analyst</source>
        <translation>z. B. Analyst</translation>
    </message>
    <message>
        <source>— Anthropic —</source>
        <translation>— Anthropic —</translation>
    </message>
    <message>
        <source>— OpenAI-compatible —</source>
        <translation>— OpenAI-kompatibel —</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>Systemprompt</translation>
    </message>
    <message>
        <source>Built-in tools (bash, files, web)</source>
        <translation>Eingebaute Werkzeuge (Bash, Dateien, Web)</translation>
    </message>
    <message>
        <source>Tool</source>
        <translation>Werkzeug</translation>
    </message>
    <message>
        <source>Permission</source>
        <translation>Berechtigung</translation>
    </message>
    <message>
        <source>Always allow</source>
        <translation>Immer erlauben</translation>
    </message>
    <message>
        <source>Always ask</source>
        <translation>Immer fragen</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <source>[{&quot;type&quot;: &quot;custom&quot;, &quot;name&quot;: &quot;lookup&quot;, &quot;description&quot;: &quot;…&quot;, &quot;input_schema&quot;: {&quot;type&quot;: &quot;object&quot;, &quot;properties&quot;: {}}}]</source>
        <translation>[{&quot;type&quot;: &quot;custom&quot;, &quot;name&quot;: &quot;lookup&quot;, &quot;description&quot;: &quot;…&quot;, &quot;input_schema&quot;: {&quot;type&quot;: &quot;object&quot;, &quot;properties&quot;: {}}}]</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Description:</source>
        <translation>&amp;Beschreibung:</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>&amp;Modell:</translation>
    </message>
    <message>
        <source>&amp;System prompt:</source>
        <translation>&amp;Systemprompt:</translation>
    </message>
    <message>
        <source>Tools:</source>
        <translation>Werkzeuge:</translation>
    </message>
    <message>
        <source>Custom tools (JSON):</source>
        <translation>Eigene Werkzeuge (JSON):</translation>
    </message>
    <message>
        <source>Metadata:</source>
        <translation>Metadaten:</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>Vergleiche</translation>
    </message>
    <message>
        <source>with</source>
        <translation>mit</translation>
    </message>
    <message>
        <source>Versions (newest first):</source>
        <translation>Versionen (neueste zuerst):</translation>
    </message>
    <message>
        <source>%1 — version %2%3</source>
        <translation>%1 — Version %2%3</translation>
    </message>
    <message>
        <source> (archived)</source>
        <translation> (archiviert)</translation>
    </message>
    <message>
        <source>not valid JSON at offset %1: %2</source>
        <translation>kein gültiges JSON an Position %1: %2</translation>
    </message>
    <message>
        <source>expected a JSON array</source>
        <translation>JSON-Array erwartet</translation>
    </message>
    <message>
        <source>✓ Tools are valid.</source>
        <translation>✓ Die Werkzeuge sind gültig.</translation>
    </message>
    <message>
        <source>✗ %1</source>
        <translation>✗ %1</translation>
    </message>
    <message>
        <source>The JSON is not valid (offset %1: %2). Fix it or revert.</source>
        <translation>Das JSON ist ungültig (Position %1: %2). Korrigieren oder verwerfen.</translation>
    </message>
    <message>
        <source>The JSON must be an object.</source>
        <translation>Das JSON muss ein Objekt sein.</translation>
    </message>
    <message>
        <source>The JSON is not valid: %1</source>
        <translation>Das JSON ist ungültig: %1</translation>
    </message>
    <message>
        <source>Agent created (version %1).</source>
        <translation>Agent angelegt (Version %1).</translation>
    </message>
    <message>
        <source>No changes: still version %1.</source>
        <translation>Keine Änderungen: weiterhin Version %1.</translation>
    </message>
    <message>
        <source>Saved as version %1.</source>
        <translation>Als Version %1 gespeichert.</translation>
    </message>
    <message>
        <source>Archive agent</source>
        <translation>Agent archivieren</translation>
    </message>
    <message>
        <source>Archive “%1”? Archived agents cannot be edited or start new sessions. This cannot be undone.</source>
        <translation>„%1“ archivieren? Archivierte Agenten können nicht bearbeitet werden und keine neuen Sitzungen starten. Das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>Agent archived.</source>
        <translation>Agent archiviert.</translation>
    </message>
    <message>
        <source>Version %1 — %2</source>
        <translation>Version %1 — %2</translation>
    </message>
    <message>
        <source>version %1</source>
        <translation>Version %1</translation>
    </message>
    <message>
        <source>The new agent</source>
        <translation>Der neue Agent</translation>
    </message>
    <message>
        <source>The new agent “%1”</source>
        <translation>Der neue Agent „%1“</translation>
    </message>
    <message>
        <source>The agent “%1”</source>
        <translation>Der Agent „%1“</translation>
    </message>
    <message>
        <source>Version %1 was saved elsewhere; showing it.</source>
        <translation>Version %1 wurde an anderer Stelle gespeichert; sie wird angezeigt.</translation>
    </message>
    <message>
        <source>Version %1 of this agent was saved elsewhere while you edit version %2. Saving will be refused: copy your changes, then Revert to load version %1.</source>
        <translation>Version %1 dieses Agenten wurde an anderer Stelle gespeichert, während Sie Version %2 bearbeiten. Speichern wird abgelehnt: Kopieren Sie Ihre Änderungen und laden Sie dann mit „Verwerfen“ Version %1.</translation>
    </message>
    <message>
        <source>Skills:</source>
        <translation>Skills:</translation>
    </message>
    <message>
        <source>Custom tools, as a JSON array</source>
        <translation>Eigene Werkzeuge als JSON-Array</translation>
    </message>
    <message>
        <source>MCP servers:</source>
        <translation>MCP-Server:</translation>
    </message>
</context>
<context>
    <name>viv::BackendBridge</name>
    <message>
        <source>The backend is not running.</source>
        <translation>Das Backend läuft nicht.</translation>
    </message>
</context>
<context>
    <name>viv::DesktopNotifier</name>
    <message>
        <source>Vivarium</source>
        <translation>Vivarium</translation>
    </message>
    <message numerus="yes">
        <source>%1 — %n session(s) need you</source>
        <translation>
            <numerusform>%1 — %n Sitzung braucht Sie</numerusform>
            <numerusform>%1 — %n Sitzungen brauchen Sie</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>viv::EnvironmentsPage</name>
    <message>
        <source>New environment</source>
        <translation>Neue Umgebung</translation>
    </message>
    <message>
        <source>Unrestricted</source>
        <translation>Uneingeschränkt</translation>
    </message>
    <message>
        <source>Limited to allowed hosts</source>
        <translation>Auf erlaubte Hosts beschränkt</translation>
    </message>
    <message>
        <source>One host per line, e.g. api.example.com</source>
        <translation>Ein Host pro Zeile, z. B. api.example.com</translation>
    </message>
    <message>
        <source>Allow the agent&apos;s MCP servers</source>
        <translation>MCP-Server des Agenten erlauben</translation>
    </message>
    <message>
        <source>Allow package registries</source>
        <translation>Paketquellen erlauben</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Description:</source>
        <translation>&amp;Beschreibung:</translation>
    </message>
    <message>
        <source>Net&amp;working:</source>
        <translation>&amp;Netzwerk:</translation>
    </message>
    <message>
        <source>Allowed hosts:</source>
        <translation>Erlaubte Hosts:</translation>
    </message>
    <message>
        <source>space-separated package names</source>
        <translation>Paketnamen, durch Leerzeichen getrennt</translation>
    </message>
    <message>
        <source>%1 packages:</source>
        <translation>%1-Pakete:</translation>
    </message>
    <message>
        <source>default guest image</source>
        <translation>Standard-Gastabbild</translation>
    </message>
    <message>
        <source>Base &amp;template:</source>
        <translation>Basis&amp;vorlage:</translation>
    </message>
    <message>
        <source>Metadata:</source>
        <translation>Metadaten:</translation>
    </message>
    <message>
        <source>Archive…</source>
        <translation>Archivieren …</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Löschen …</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>Environment created.</source>
        <translation>Umgebung angelegt.</translation>
    </message>
    <message>
        <source>Environment saved.</source>
        <translation>Umgebung gespeichert.</translation>
    </message>
    <message>
        <source>Archive environment</source>
        <translation>Umgebung archivieren</translation>
    </message>
    <message>
        <source>Archive “%1”? It can no longer start sessions.</source>
        <translation>„%1“ archivieren? Damit lassen sich keine Sitzungen mehr starten.</translation>
    </message>
    <message>
        <source>Environment archived.</source>
        <translation>Umgebung archiviert.</translation>
    </message>
    <message>
        <source>Delete environment</source>
        <translation>Umgebung löschen</translation>
    </message>
    <message>
        <source>Delete “%1” permanently?</source>
        <translation>„%1“ endgültig löschen?</translation>
    </message>
    <message>
        <source>Environment deleted.</source>
        <translation>Umgebung gelöscht.</translation>
    </message>
    <message>
        <source>Guest image (shared by every environment)</source>
        <translation>Gast-Image (für alle Umgebungen gemeinsam)</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Wird geprüft…</translation>
    </message>
    <message>
        <source>Show build log</source>
        <translation>Build-Protokoll anzeigen</translation>
    </message>
    <message>
        <source>Build now</source>
        <translation>Jetzt bauen</translation>
    </message>
    <message>
        <source>Build the guest image now instead of at the first sandbox start (takes a few minutes).</source>
        <translation>Das Gast-Image jetzt bauen statt beim ersten Start einer Sandbox (dauert einige Minuten).</translation>
    </message>
    <message>
        <source>Cannot read the guest image&apos;s state: %1</source>
        <translation>Der Zustand des Gast-Images kann nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source> (version %1)</source>
        <translation> (Version %1)</translation>
    </message>
    <message>
        <source>The guest image recipe is missing: sandboxes cannot start. Set VIVARIUM_GUEST_RECIPE_DIR or reinstall Vivarium.</source>
        <translation>Das Rezept für das Gast-Image fehlt: Sandboxen können nicht starten. Setzen Sie VIVARIUM_GUEST_RECIPE_DIR oder installieren Sie Vivarium neu.</translation>
    </message>
    <message>
        <source>Building%1: %2</source>
        <translation>Wird gebaut%1: %2</translation>
    </message>
    <message>
        <source>● Ready%1</source>
        <translation>● Bereit%1</translation>
    </message>
    <message>
        <source>The build failed: %1</source>
        <translation>Der Build ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Not built yet%1: it is built when the first sandbox starts, or now with “Build now” (a few minutes).</source>
        <translation>Noch nicht gebaut%1: Es wird beim Start der ersten Sandbox gebaut oder jetzt mit „Jetzt bauen“ (einige Minuten).</translation>
    </message>
    <message>
        <source>Building the guest image failed: %1</source>
        <translation>Das Bauen des Gast-Images ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>The guest image is ready.</source>
        <translation>Das Gast-Image ist bereit.</translation>
    </message>
    <message>
        <source>Guest image build log</source>
        <translation>Build-Protokoll des Gast-Images</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Packages of this environment</source>
        <translation>Pakete dieser Umgebung</translation>
    </message>
    <message>
        <source>Package layer build log</source>
        <translation>Build-Protokoll der Paketschicht</translation>
    </message>
    <message>
        <source>Cannot read the package layer&apos;s state: %1</source>
        <translation>Der Zustand der Paketschicht kann nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>Package layers are off: sandbox tools are disabled (VIVARIUM_SANDBOX_TOOLS=0).</source>
        <translation>Paketschichten sind aus: Die Sandbox-Werkzeuge sind deaktiviert (VIVARIUM_SANDBOX_TOOLS=0).</translation>
    </message>
    <message>
        <source>Save the environment to see the state of its packages.</source>
        <translation>Speichern Sie die Umgebung, um den Zustand ihrer Pakete zu sehen.</translation>
    </message>
    <message>
        <source>No packages — uses the base image</source>
        <translation>Keine Pakete — verwendet das Basis-Image</translation>
    </message>
    <message>
        <source>Building…</source>
        <translation>Wird gebaut…</translation>
    </message>
    <message>
        <source>Building: %1</source>
        <translation>Wird gebaut: %1</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>Fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Not built yet — builds with the first session</source>
        <translation>Noch nicht gebaut — wird mit der ersten Sitzung gebaut</translation>
    </message>
    <message>
        <source>Rebuild</source>
        <translation>Neu bauen</translation>
    </message>
    <message>
        <source>Install this environment&apos;s packages again (boots a build VM).</source>
        <translation>Die Pakete dieser Umgebung erneut installieren (startet eine Build-VM).</translation>
    </message>
    <message>
        <source>Install this environment&apos;s packages now instead of with its first session (boots a build VM).</source>
        <translation>Die Pakete dieser Umgebung jetzt statt mit ihrer ersten Sitzung installieren (startet eine Build-VM).</translation>
    </message>
    <message>
        <source>Installing the environment&apos;s packages failed: %1</source>
        <translation>Die Installation der Pakete der Umgebung ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>The environment&apos;s packages are installed.</source>
        <translation>Die Pakete der Umgebung sind installiert.</translation>
    </message>
    <message>
        <source>The new environment</source>
        <translation>Die neue Umgebung</translation>
    </message>
    <message>
        <source>The new environment “%1”</source>
        <translation>Die neue Umgebung „%1“</translation>
    </message>
    <message>
        <source>The environment “%1”</source>
        <translation>Die Umgebung „%1“</translation>
    </message>
</context>
<context>
    <name>viv::FirstRunPanel</name>
    <message>
        <source>&lt;b&gt;Set up a model provider&lt;/b&gt;</source>
        <translation>&lt;b&gt;Modellanbieter einrichten&lt;/b&gt;</translation>
    </message>
    <message>
        <source>No model provider is usable yet, so agents cannot answer. Give Vivarium an Anthropic API key, or point it at an OpenAI-compatible server such as a local Ollama. Keys are stored in the OS keychain, nowhere else. You can change this later under Settings → Model providers.</source>
        <translation>Noch ist kein Modellanbieter nutzbar, daher können Agenten nicht antworten. Geben Sie Vivarium einen Anthropic-API-Schlüssel oder verweisen Sie es auf einen OpenAI-kompatiblen Server wie ein lokales Ollama. Schlüssel werden im Schlüsselbund des Systems gespeichert, nirgends sonst. Sie können das später unter Einstellungen → Modellanbieter ändern.</translation>
    </message>
    <message>
        <source>Anthropic API key</source>
        <translation>Anthropic-API-Schlüssel</translation>
    </message>
    <message>
        <source>OpenAI-compatible server (Ollama, vLLM, llama.cpp)</source>
        <translation>OpenAI-kompatibler Server (Ollama, vLLM, llama.cpp)</translation>
    </message>
    <message>
        <source>Provider:</source>
        <translation>Anbieter:</translation>
    </message>
    <message>
        <source>sk-ant-…</source>
        <translation>sk-ant-…</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API-Schlüssel:</translation>
    </message>
    <message>
        <source>Optional (a local Ollama needs none)</source>
        <translation>Optional (ein lokales Ollama braucht keinen)</translation>
    </message>
    <message>
        <source>e.g. llama3.2</source>
        <translation>z. B. llama3.2</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Basis-URL:</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>Modell:</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Verbindung testen</translation>
    </message>
    <message>
        <source>Save and use</source>
        <translation>Speichern und verwenden</translation>
    </message>
    <message>
        <source>Requests go to %1.</source>
        <translation>Anfragen gehen an %1.</translation>
    </message>
    <message>
        <source>Requests go to %1 (set by the environment variable %2).</source>
        <translation>Anfragen gehen an %1 (von der Umgebungsvariablen %2 festgelegt).</translation>
    </message>
    <message>
        <source>Enter the API key.</source>
        <translation>Geben Sie den API-Schlüssel ein.</translation>
    </message>
    <message>
        <source>Enter a URL such as %1.</source>
        <translation>Geben Sie eine URL wie %1 ein.</translation>
    </message>
    <message>
        <source>Enter the model to use, e.g. llama3.2.</source>
        <translation>Geben Sie das zu verwendende Modell ein, z. B. llama3.2.</translation>
    </message>
    <message>
        <source>The key was not saved: no keychain is available (%1). Vivarium keeps keys nowhere else.</source>
        <translation>Der Schlüssel wurde nicht gespeichert: Kein Schlüsselbund verfügbar (%1). Vivarium speichert Schlüssel nirgendwo sonst.</translation>
    </message>
    <message>
        <source>Saved, but this server needs an API key.</source>
        <translation>Gespeichert, aber dieser Server braucht einen API-Schlüssel.</translation>
    </message>
    <message>
        <source>Saved, but the provider is still not usable.</source>
        <translation>Gespeichert, aber der Anbieter ist noch nicht nutzbar.</translation>
    </message>
</context>
<context>
    <name>viv::KeyValueEditor</name>
    <message>
        <source>Key</source>
        <translation>Schlüssel</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Hinzufügen</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
</context>
<context>
    <name>viv::LlmVaultForm</name>
    <message>
        <source>Model provider (LLM vault)</source>
        <translation>Modellanbieter (LLM-Tresor)</translation>
    </message>
    <message>
        <source>None (not a model provider)</source>
        <translation>Keiner (kein Modellanbieter)</translation>
    </message>
    <message>
        <source>Anthropic</source>
        <translation>Anthropic</translation>
    </message>
    <message>
        <source>OpenAI-compatible</source>
        <translation>OpenAI-kompatibel</translation>
    </message>
    <message>
        <source>Empty: the default URL of the format</source>
        <translation>Leer: die Standard-URL des Formats</translation>
    </message>
    <message>
        <source>Save provider</source>
        <translation>Anbieter speichern</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>Format:</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Basis-URL:</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API-Schlüssel:</translation>
    </message>
    <message>
        <source>Sessions this vault is attached to send their model requests here.</source>
        <translation>Sitzungen, denen dieser Tresor zugeordnet ist, senden ihre Modellanfragen hierhin.</translation>
    </message>
    <message>
        <source>Optional (a local Ollama needs none)</source>
        <translation>Optional (ein lokales Ollama braucht keinen)</translation>
    </message>
    <message>
        <source>•••••• stored in the keychain — type to replace</source>
        <translation>•••••• im Schlüsselbund gespeichert — zum Ersetzen eintippen</translation>
    </message>
    <message>
        <source>No key stored. A key goes to the OS keychain and cannot be read back here.</source>
        <translation>Kein Schlüssel gespeichert. Ein Schlüssel kommt in den Schlüsselbund des Systems und kann hier nicht wieder gelesen werden.</translation>
    </message>
    <message>
        <source>A key is stored (credential %1). Leave the field empty to keep it.</source>
        <translation>Ein Schlüssel ist gespeichert (Zugangsdaten %1). Lassen Sie das Feld leer, um ihn zu behalten.</translation>
    </message>
    <message>
        <source>The base URL must be an http:// or https:// URL, e.g. http://127.0.0.1:11434/v1.</source>
        <translation>Die Basis-URL muss eine http://- oder https://-URL sein, z. B. http://127.0.0.1:11434/v1.</translation>
    </message>
    <message>
        <source>No keychain is available, so the key was not stored and the vault was not changed (Vivarium never keeps secrets anywhere else).

Details: %1</source>
        <translation>Kein Schlüsselbund verfügbar, daher wurde der Schlüssel nicht gespeichert und der Tresor nicht geändert (Vivarium speichert Geheimnisse nirgendwo sonst).

Details: %1</translation>
    </message>
    <message>
        <source>Model provider saved.</source>
        <translation>Modellanbieter gespeichert.</translation>
    </message>
</context>
<context>
    <name>viv::MainWindow</name>
    <message>
        <source>Vivarium</source>
        <translation>Vivarium</translation>
    </message>
    <message>
        <source>Agents</source>
        <translation>Agenten</translation>
    </message>
    <message>
        <source>Environments</source>
        <translation>Umgebungen</translation>
    </message>
    <message>
        <source>Vaults</source>
        <translation>Tresore</translation>
    </message>
    <message>
        <source>Sessions</source>
        <translation>Sitzungen</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>Use from &amp;scripts…</source>
        <translation>Aus &amp;Skripten verwenden …</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen …</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Vivarium</source>
        <translation>Ü&amp;ber Vivarium</translation>
    </message>
    <message>
        <source>Starting backend…</source>
        <translation>Backend startet …</translation>
    </message>
    <message>
        <source>Use from scripts…</source>
        <translation>Aus Skripten verwenden …</translation>
    </message>
    <message>
        <source>API: not listening</source>
        <translation>API: lauscht nicht</translation>
    </message>
    <message>
        <source>API: %1</source>
        <translation>API: %1</translation>
    </message>
    <message>
        <source>Backend not running</source>
        <translation>Backend läuft nicht</translation>
    </message>
    <message>
        <source>Vivarium backend</source>
        <translation>Vivarium-Backend</translation>
    </message>
    <message>
        <source>The backend could not start:

%1</source>
        <translation>Das Backend konnte nicht starten:

%1</translation>
    </message>
    <message>
        <source>About Vivarium</source>
        <translation>Über Vivarium</translation>
    </message>
    <message>
        <source>&lt;b&gt;Vivarium %1&lt;/b&gt;&lt;p&gt;Run AI agents locally behind the Managed Agents API.&lt;/p&gt;&lt;p&gt;Syntax highlighting: %2&lt;/p&gt;</source>
        <translation>&lt;b&gt;Vivarium %1&lt;/b&gt;&lt;p&gt;KI-Agenten lokal hinter der Managed-Agents-API ausführen.&lt;/p&gt;&lt;p&gt;Syntaxhervorhebung: %2&lt;/p&gt;</translation>
    </message>
    <message>
        <source>KSyntaxHighlighting</source>
        <translation>KSyntaxHighlighting</translation>
    </message>
    <message>
        <source>built-in</source>
        <translation>eingebaut</translation>
    </message>
    <message>
        <source>Sandboxes</source>
        <translation>Sandboxen</translation>
    </message>
    <message>
        <source>New &amp;agent</source>
        <translation>Neuer &amp;Agent</translation>
    </message>
    <message>
        <source>&amp;New session…</source>
        <translation>&amp;Neue Sitzung …</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Speichern</translation>
    </message>
    <message>
        <source>Se&amp;ssion</source>
        <translation>S&amp;itzung</translation>
    </message>
    <message>
        <source>Next session that &amp;needs you</source>
        <translation>Nächste Sitzung, die Sie &amp;braucht</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>&amp;Tastenkürzel</translation>
    </message>
    <message>
        <source>No session needs you.</source>
        <translation>Keine Sitzung braucht Sie.</translation>
    </message>
    <message numerus="yes">
        <source>%1 — %n session(s) need you</source>
        <translation>
            <numerusform>%1 — %n Sitzung braucht Sie</numerusform>
            <numerusform>%1 — %n Sitzungen brauchen Sie</numerusform>
        </translation>
    </message>
    <message>
        <source>A session</source>
        <translation>Eine Sitzung</translation>
    </message>
    <message>
        <source>“%1” waits for your decision.</source>
        <translation>„%1“ wartet auf Ihre Entscheidung.</translation>
    </message>
    <message>
        <source>“%1” waits for your decision on %2.</source>
        <translation>„%1“ wartet auf Ihre Entscheidung zu %2.</translation>
    </message>
    <message>
        <source>Vivarium: a session needs you</source>
        <translation>Vivarium: Eine Sitzung braucht Sie</translation>
    </message>
    <message>
        <source>Skills</source>
        <translation>Skills</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Gedächtnis</translation>
    </message>
</context>
<context>
    <name>viv::McpOAuthValidator</name>
    <message>
        <source>Validate</source>
        <translation>Prüfen</translation>
    </message>
    <message>
        <source>Connects to the MCP server with this token (refreshing it once if refused)</source>
        <translation>Verbindet sich mit diesem Token mit dem MCP-Server (bei Ablehnung wird es einmal erneuert)</translation>
    </message>
    <message>
        <source>✓ Valid: the server accepted the token.</source>
        <translation>✓ Gültig: Der Server hat das Token angenommen.</translation>
    </message>
    <message>
        <source>✗ Invalid: the server refused the token.</source>
        <translation>✗ Ungültig: Der Server hat das Token abgelehnt.</translation>
    </message>
    <message>
        <source>? Unknown: the server could not be asked.</source>
        <translation>? Unbekannt: Der Server konnte nicht gefragt werden.</translation>
    </message>
    <message>
        <source>Failing step: %1 (no HTTP answer).</source>
        <translation>Fehlgeschlagener Schritt: %1 (keine HTTP-Antwort).</translation>
    </message>
    <message>
        <source>Failing step: %1 (HTTP %2).</source>
        <translation>Fehlgeschlagener Schritt: %1 (HTTP %2).</translation>
    </message>
    <message>
        <source>Refresh: %1.</source>
        <translation>Erneuerung: %1.</translation>
    </message>
    <message>
        <source>Validating…</source>
        <translation>Wird geprüft …</translation>
    </message>
    <message>
        <source>✗ %1</source>
        <translation>✗ %1</translation>
    </message>
</context>
<context>
    <name>viv::McpServersEditor</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Add server</source>
        <translation>Server hinzufügen</translation>
    </message>
    <message>
        <source>Remove server</source>
        <translation>Server entfernen</translation>
    </message>
    <message>
        <source>Tools enabled by default</source>
        <translation>Werkzeuge standardmäßig aktiviert</translation>
    </message>
    <message>
        <source>Always ask</source>
        <translation>Immer fragen</translation>
    </message>
    <message>
        <source>Always allow</source>
        <translation>Immer erlauben</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatisch</translation>
    </message>
    <message>
        <source>The vault whose credential for this URL is sent while discovering</source>
        <translation>Der Tresor, dessen Zugangsdaten für diese URL beim Abfragen gesendet werden</translation>
    </message>
    <message>
        <source>Discover tools</source>
        <translation>Werkzeuge abfragen</translation>
    </message>
    <message>
        <source>Tool</source>
        <translation>Werkzeug</translation>
    </message>
    <message>
        <source>Permission</source>
        <translation>Berechtigung</translation>
    </message>
    <message>
        <source>Default permission:</source>
        <translation>Standardberechtigung:</translation>
    </message>
    <message>
        <source>Vault:</source>
        <translation>Tresor:</translation>
    </message>
    <message>
        <source>Tools:</source>
        <translation>Werkzeuge:</translation>
    </message>
    <message>
        <source>No vault (no credential)</source>
        <translation>Kein Tresor (keine Zugangsdaten)</translation>
    </message>
    <message>
        <source>Toolset default</source>
        <translation>Standard des Werkzeugsatzes</translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation>Verbinde mit %1 …</translation>
    </message>
    <message>
        <source>✗ Could not list the tools: %1</source>
        <translation>✗ Die Werkzeuge konnten nicht abgefragt werden: %1</translation>
    </message>
    <message numerus="yes">
        <source>✓ %n tool(s) found.</source>
        <translation>
            <numerusform>✓ %n Werkzeug gefunden.</numerusform>
            <numerusform>✓ %n Werkzeuge gefunden.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>viv::MemoryPage</name>
    <message>
        <source>created</source>
        <translation>erstellt</translation>
    </message>
    <message>
        <source>modified</source>
        <translation>geändert</translation>
    </message>
    <message>
        <source>deleted</source>
        <translation>gelöscht</translation>
    </message>
    <message>
        <source>you (%1)</source>
        <translation>Sie (%1)</translation>
    </message>
    <message>
        <source>session %1</source>
        <translation>Sitzung %1</translation>
    </message>
    <message>
        <source>API key %1</source>
        <translation>API-Schlüssel %1</translation>
    </message>
    <message>
        <source>New store</source>
        <translation>Neuer Speicher</translation>
    </message>
    <message>
        <source>Save store</source>
        <translation>Speicher sichern</translation>
    </message>
    <message>
        <source>Archive…</source>
        <translation>Archivieren…</translation>
    </message>
    <message>
        <source>An archived store is read-only; archiving is permanent</source>
        <translation>Ein archivierter Speicher ist schreibgeschützt; Archivieren ist endgültig</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Löschen…</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>Beschreibung:</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Pfad</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>New memory</source>
        <translation>Neue Erinnerung</translation>
    </message>
    <message>
        <source>/notes/topic.md</source>
        <translation>/notizen/thema.md</translation>
    </message>
    <message>
        <source>Save memory</source>
        <translation>Erinnerung sichern</translation>
    </message>
    <message>
        <source>Delete memory…</source>
        <translation>Erinnerung löschen…</translation>
    </message>
    <message>
        <source>Redact version…</source>
        <translation>Version schwärzen…</translation>
    </message>
    <message>
        <source>Clear this version&apos;s content and path for good; who changed what and when is kept</source>
        <translation>Inhalt und Pfad dieser Version endgültig löschen; wer wann was geändert hat, bleibt erhalten</translation>
    </message>
    <message>
        <source>Path:</source>
        <translation>Pfad:</translation>
    </message>
    <message>
        <source>History (newest first; the diff compares with the version before):</source>
        <translation>Verlauf (neueste zuerst; der Vergleich zeigt die Änderung gegenüber der vorigen Version):</translation>
    </message>
    <message>
        <source>%1 (archived)</source>
        <translation>%1 (archiviert)</translation>
    </message>
    <message>
        <source>Store %1 saved.</source>
        <translation>Speicher %1 gesichert.</translation>
    </message>
    <message>
        <source>Archive store</source>
        <translation>Speicher archivieren</translation>
    </message>
    <message>
        <source>Archive the store %1? It becomes read-only, for good.</source>
        <translation>Speicher %1 archivieren? Er wird endgültig schreibgeschützt.</translation>
    </message>
    <message>
        <source>Store archived.</source>
        <translation>Speicher archiviert.</translation>
    </message>
    <message>
        <source>Delete store</source>
        <translation>Speicher löschen</translation>
    </message>
    <message>
        <source>Delete the store %1 with all its memories and their history? This cannot be undone.</source>
        <translation>Speicher %1 mit allen Erinnerungen und ihrem Verlauf löschen? Das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>Store deleted.</source>
        <translation>Speicher gelöscht.</translation>
    </message>
    <message>
        <source>Memory %1 saved.</source>
        <translation>Erinnerung %1 gesichert.</translation>
    </message>
    <message>
        <source>Delete memory</source>
        <translation>Erinnerung löschen</translation>
    </message>
    <message>
        <source>Delete the memory %1? Its history stays in the store.</source>
        <translation>Erinnerung %1 löschen? Ihr Verlauf bleibt im Speicher.</translation>
    </message>
    <message>
        <source>Memory %1 deleted.</source>
        <translation>Erinnerung %1 gelöscht.</translation>
    </message>
    <message>
        <source>%1 · %2 by %3</source>
        <translation>%1 · %2 von %3</translation>
    </message>
    <message>
        <source> · redacted</source>
        <translation> · geschwärzt</translation>
    </message>
    <message>
        <source>(nothing before)</source>
        <translation>(nichts davor)</translation>
    </message>
    <message>
        <source>%1 (redacted)</source>
        <translation>%1 (geschwärzt)</translation>
    </message>
    <message>
        <source>%1 %2</source>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source>Redact version</source>
        <translation>Version schwärzen</translation>
    </message>
    <message>
        <source>Redact this version (%1)? Its content and path are erased for good; the record of who changed what and when stays.</source>
        <translation>Diese Version (%1) schwärzen? Inhalt und Pfad werden endgültig gelöscht; der Nachweis, wer wann was geändert hat, bleibt.</translation>
    </message>
    <message>
        <source>Version redacted.</source>
        <translation>Version geschwärzt.</translation>
    </message>
</context>
<context>
    <name>viv::MessageBanner</name>
    <message>
        <source>Click to dismiss</source>
        <translation>Zum Schließen klicken</translation>
    </message>
</context>
<context>
    <name>viv::NewSessionDialog</name>
    <message>
        <source>New session</source>
        <translation>Neue Sitzung</translation>
    </message>
    <message>
        <source>&amp;Agent:</source>
        <translation>&amp;Agent:</translation>
    </message>
    <message>
        <source>&amp;Version:</source>
        <translation>&amp;Version:</translation>
    </message>
    <message>
        <source>&amp;Environment:</source>
        <translation>&amp;Umgebung:</translation>
    </message>
    <message>
        <source>Vaults:</source>
        <translation>Tresore:</translation>
    </message>
    <message>
        <source>&amp;Title:</source>
        <translation>&amp;Titel:</translation>
    </message>
    <message>
        <source>Start session</source>
        <translation>Sitzung starten</translation>
    </message>
    <message>
        <source>Create an agent first (Agents page).</source>
        <translation>Legen Sie zuerst einen Agenten an (Seite „Agenten“).</translation>
    </message>
    <message>
        <source>Create an environment first (Environments page).</source>
        <translation>Legen Sie zuerst eine Umgebung an (Seite „Umgebungen“).</translation>
    </message>
    <message>
        <source>Choose an agent and an environment.</source>
        <translation>Wählen Sie einen Agenten und eine Umgebung.</translation>
    </message>
</context>
<context>
    <name>viv::OutcomePanel</name>
    <message>
        <source>No outcome defined in this session. A client defines one with user.define_outcome (a task and a rubric a grader checks each attempt against).</source>
        <translation>In dieser Sitzung ist kein Ergebnisziel definiert. Ein Client definiert eines mit user.define_outcome (eine Aufgabe und Bewertungskriterien, an denen ein Prüfer jeden Versuch misst).</translation>
    </message>
    <message>
        <source>Outcome / iteration</source>
        <translation>Ergebnisziel / Durchlauf</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Ergebnis</translation>
    </message>
    <message>
        <source>Rubric / feedback</source>
        <translation>Kriterien / Rückmeldung</translation>
    </message>
    <message>
        <source>✔ satisfied</source>
        <translation>✔ erfüllt</translation>
    </message>
    <message>
        <source>✎ needs revision</source>
        <translation>✎ muss überarbeitet werden</translation>
    </message>
    <message>
        <source>✖ out of iterations</source>
        <translation>✖ keine Durchläufe mehr</translation>
    </message>
    <message>
        <source>✖ failed</source>
        <translation>✖ fehlgeschlagen</translation>
    </message>
    <message>
        <source>■ interrupted</source>
        <translation>■ unterbrochen</translation>
    </message>
    <message>
        <source>● working</source>
        <translation>● in Arbeit</translation>
    </message>
    <message>
        <source>… evaluating</source>
        <translation>… wird bewertet</translation>
    </message>
    <message>
        <source>○ pending</source>
        <translation>○ ausstehend</translation>
    </message>
    <message>
        <source>Rubric (at most %1 iterations): %2</source>
        <translation>Kriterien (höchstens %1 Durchläufe): %2</translation>
    </message>
    <message>
        <source>Iteration %1</source>
        <translation>Durchlauf %1</translation>
    </message>
</context>
<context>
    <name>viv::SandboxConsole</name>
    <message>
        <source>A shell command, run with bash in the current folder (Enter runs it)</source>
        <translation>Ein Shell-Befehl, mit bash im aktuellen Ordner ausgeführt (Eingabetaste führt ihn aus)</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Ausführen</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stopp</translation>
    </message>
    <message>
        <source>Stop the running command: it and every process it started are killed</source>
        <translation>Den laufenden Befehl stoppen: Er und alle von ihm gestarteten Prozesse werden beendet</translation>
    </message>
    <message>
        <source>The command could not run: %1</source>
        <translation>Der Befehl konnte nicht ausgeführt werden: %1</translation>
    </message>
    <message>
        <source>(output truncated)</source>
        <translation>(Ausgabe gekürzt)</translation>
    </message>
    <message>
        <source>stopped: the command and the processes it started were killed</source>
        <translation>gestoppt: Der Befehl und die von ihm gestarteten Prozesse wurden beendet</translation>
    </message>
    <message>
        <source>timed out after %1 min and was killed</source>
        <translation>nach %1 Min. abgebrochen (Zeitüberschreitung)</translation>
    </message>
    <message>
        <source>exit code %1</source>
        <translation>Exit-Code %1</translation>
    </message>
    <message>
        <source>killed by signal %1</source>
        <translation>durch Signal %1 beendet</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>Wird gestoppt…</translation>
    </message>
</context>
<context>
    <name>viv::SandboxFilesPanel</name>
    <message>
        <source>Parent folder</source>
        <translation>Übergeordneter Ordner</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Modified</source>
        <translation>Geändert</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Öffnen</translation>
    </message>
    <message>
        <source>Download…</source>
        <translation>Herunterladen…</translation>
    </message>
    <message>
        <source>Upload…</source>
        <translation>Hochladen…</translation>
    </message>
    <message>
        <source>Copy a local file into the current folder</source>
        <translation>Eine lokale Datei in den aktuellen Ordner kopieren</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Double-click a file to view it.</source>
        <translation>Doppelklicken Sie auf eine Datei, um sie anzuzeigen.</translation>
    </message>
    <message>
        <source>Cannot list %1: %2</source>
        <translation>%1 kann nicht aufgelistet werden: %2</translation>
    </message>
    <message>
        <source>Cannot open %1: %2</source>
        <translation>%1 kann nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>This is a binary file (%1). Download it to look inside.</source>
        <translation>Dies ist eine Binärdatei (%1). Laden Sie sie herunter, um hineinzusehen.</translation>
    </message>
    <message>
        <source>%1 — showing the first %2 of %3; download it for the whole file</source>
        <translation>%1 — die ersten %2 von %3 werden gezeigt; laden Sie die Datei für den ganzen Inhalt herunter</translation>
    </message>
    <message>
        <source>Upload a file into %1</source>
        <translation>Eine Datei nach %1 hochladen</translation>
    </message>
    <message>
        <source>Download %1</source>
        <translation>%1 herunterladen</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Cannot upload %1: %2 is a folder in the sandbox.</source>
        <translation>%1 kann nicht hochgeladen werden: %2 ist ein Ordner in der Sandbox.</translation>
    </message>
    <message>
        <source>Replace file</source>
        <translation>Datei ersetzen</translation>
    </message>
    <message>
        <source>“%1” already exists in %2. Replace it?</source>
        <translation>„%1“ existiert bereits in %2. Ersetzen?</translation>
    </message>
    <message>
        <source>Uploading %1… %p%</source>
        <translation>%1 wird hochgeladen… %p %</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Downloading %1… %p%</source>
        <translation>%1 wird heruntergeladen… %p %</translation>
    </message>
    <message>
        <source>Upload of %1 failed: cannot read %2: %3</source>
        <translation>Hochladen von %1 fehlgeschlagen: %2 kann nicht gelesen werden: %3</translation>
    </message>
    <message>
        <source>Upload of %1 failed: %2</source>
        <translation>Hochladen von %1 fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Uploaded %1 to %2.</source>
        <translation>%1 nach %2 hochgeladen.</translation>
    </message>
    <message>
        <source>Download of %1 failed: %2</source>
        <translation>Herunterladen von %1 fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Download of %1 failed: cannot write %2: %3</source>
        <translation>Herunterladen von %1 fehlgeschlagen: %2 kann nicht geschrieben werden: %3</translation>
    </message>
    <message>
        <source>Download of %1 failed: the file shrank while it was read.</source>
        <translation>Herunterladen von %1 fehlgeschlagen: Die Datei ist beim Lesen kleiner geworden.</translation>
    </message>
    <message>
        <source>Downloaded %1 to %2.</source>
        <translation>%1 nach %2 heruntergeladen.</translation>
    </message>
    <message>
        <source>Transfer of %1 cancelled.</source>
        <translation>Übertragung von %1 abgebrochen.</translation>
    </message>
</context>
<context>
    <name>viv::SandboxProgressPanel</name>
    <message>
        <source>Dismiss</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Building the sandbox image: %1% %2</source>
        <translation>Das Sandbox-Image wird gebaut: %1 % %2</translation>
    </message>
    <message>
        <source>Building the sandbox image: %1</source>
        <translation>Das Sandbox-Image wird gebaut: %1</translation>
    </message>
    <message>
        <source>Installing the environment&apos;s packages (see log)</source>
        <translation>Die Pakete der Umgebung werden installiert (siehe Protokoll)</translation>
    </message>
    <message>
        <source>Installing the environment&apos;s packages (see log): %1</source>
        <translation>Die Pakete der Umgebung werden installiert (siehe Protokoll): %1</translation>
    </message>
    <message>
        <source>Restoring the sandbox from disk</source>
        <translation>Die Sandbox wird von der Festplatte wiederhergestellt</translation>
    </message>
    <message>
        <source>Resuming the sandbox VM</source>
        <translation>Die Sandbox-VM wird fortgesetzt</translation>
    </message>
    <message>
        <source>Booting the sandbox VM (trying KVM…)</source>
        <translation>Die Sandbox-VM startet (KVM wird versucht …)</translation>
    </message>
    <message>
        <source>Booting the sandbox VM (software emulation, slower)</source>
        <translation>Die Sandbox-VM startet (Software-Emulation, langsamer)</translation>
    </message>
    <message>
        <source>Booting the sandbox VM</source>
        <translation>Die Sandbox-VM startet</translation>
    </message>
    <message>
        <source>Preparing the sandbox…</source>
        <translation>Die Sandbox wird vorbereitet …</translation>
    </message>
    <message>
        <source>The sandbox could not be prepared: %1</source>
        <translation>Die Sandbox konnte nicht vorbereitet werden: %1</translation>
    </message>
    <message>
        <source>Open Environments to see the package build log, fix the packages and rebuild the layer, then start a new session.</source>
        <translation>Öffnen Sie „Umgebungen“, um das Build-Protokoll der Pakete zu sehen, korrigieren Sie die Pakete und bauen Sie die Schicht neu; starten Sie dann eine neue Sitzung.</translation>
    </message>
    <message>
        <source>See the image build log; the next tool call builds the image again.</source>
        <translation>Siehe das Build-Protokoll des Images; der nächste Werkzeugaufruf baut das Image erneut.</translation>
    </message>
    <message>
        <source>See the image build log (%1); the next tool call builds the image again.</source>
        <translation>Siehe das Build-Protokoll des Images (%1); der nächste Werkzeugaufruf baut das Image erneut.</translation>
    </message>
    <message>
        <source>Check that libvirtd is running (installer/setup.sh starts it); the next tool call tries again.</source>
        <translation>Prüfen Sie, ob libvirtd läuft (installer/setup.sh startet ihn); der nächste Werkzeugaufruf versucht es erneut.</translation>
    </message>
    <message>
        <source>The image is built once; later sessions start in seconds.</source>
        <translation>Das Image wird einmal gebaut; spätere Sitzungen starten in Sekunden.</translation>
    </message>
    <message>
        <source>Log: %1</source>
        <translation>Protokoll: %1</translation>
    </message>
</context>
<context>
    <name>viv::SandboxStateBar</name>
    <message>
        <source>Pause</source>
        <translation>Anhalten</translation>
    </message>
    <message>
        <source>Freeze the VM; its memory and files are kept.</source>
        <translation>Die VM einfrieren; Arbeitsspeicher und Dateien bleiben erhalten.</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>Looking up the sandbox…</source>
        <translation>Sandbox wird gesucht…</translation>
    </message>
    <message>
        <source>◐ Booting…</source>
        <translation>◐ Startet…</translation>
    </message>
    <message>
        <source>● Running</source>
        <translation>● Läuft</translation>
    </message>
    <message>
        <source>❚❚ Paused (saved to disk)</source>
        <translation>❚❚ Angehalten (auf der Festplatte gesichert)</translation>
    </message>
    <message>
        <source>❚❚ Paused</source>
        <translation>❚❚ Angehalten</translation>
    </message>
    <message>
        <source>■ Stopped</source>
        <translation>■ Beendet</translation>
    </message>
    <message>
        <source>■ Stopped: %1</source>
        <translation>■ Beendet: %1</translation>
    </message>
    <message>
        <source>restored from the VM template in %1 s</source>
        <translation>aus der VM-Vorlage wiederhergestellt in %1 s</translation>
    </message>
    <message>
        <source>booted in %1 s</source>
        <translation>gestartet in %1 s</translation>
    </message>
    <message>
        <source>from the warm pool</source>
        <translation>aus dem Warm-Pool</translation>
    </message>
    <message>
        <source>cold start</source>
        <translation>Kaltstart</translation>
    </message>
    <message>
        <source>%1 vCPU</source>
        <comment>a count of virtual CPUs, as a unit</comment>
        <translation>%1 vCPU</translation>
    </message>
    <message>
        <source>%1 MiB memory</source>
        <translation>%1 MiB Arbeitsspeicher</translation>
    </message>
    <message>
        <source>started %1</source>
        <translation>gestartet %1</translation>
    </message>
    <message>
        <source>ends %1</source>
        <translation>endet %1</translation>
    </message>
</context>
<context>
    <name>viv::SandboxView</name>
    <message>
        <source>The session&apos;s sandbox has stopped; its next tool call starts a new one.</source>
        <translation>Die Sandbox der Sitzung wurde beendet; ihr nächster Werkzeugaufruf startet eine neue.</translation>
    </message>
    <message>
        <source>No session selected.</source>
        <translation>Keine Sitzung ausgewählt.</translation>
    </message>
    <message>
        <source>Cannot look up the session&apos;s sandbox: %1</source>
        <translation>Die Sandbox der Sitzung kann nicht ermittelt werden: %1</translation>
    </message>
    <message>
        <source>No sandbox yet — it starts with the session&apos;s first tool call.</source>
        <translation>Noch keine Sandbox — sie startet mit dem ersten Werkzeugaufruf der Sitzung.</translation>
    </message>
    <message>
        <source>the sandbox no longer exists</source>
        <translation>die Sandbox existiert nicht mehr</translation>
    </message>
    <message>
        <source>The sandbox is paused: resume it to browse files or run commands.</source>
        <translation>Die Sandbox ist angehalten: Setzen Sie sie fort, um Dateien zu durchsuchen oder Befehle auszuführen.</translation>
    </message>
    <message>
        <source>The sandbox has stopped; its files are no longer reachable.</source>
        <translation>Die Sandbox wurde beendet; ihre Dateien sind nicht mehr erreichbar.</translation>
    </message>
    <message>
        <source>The sandbox has stopped (%1); its files are no longer reachable.</source>
        <translation>Die Sandbox wurde beendet (%1); ihre Dateien sind nicht mehr erreichbar.</translation>
    </message>
    <message>
        <source>Could not pause the sandbox: %1</source>
        <translation>Die Sandbox konnte nicht angehalten werden: %1</translation>
    </message>
    <message>
        <source>Could not resume the sandbox: %1</source>
        <translation>Die Sandbox konnte nicht fortgesetzt werden: %1</translation>
    </message>
</context>
<context>
    <name>viv::SandboxesPage</name>
    <message>
        <source>booting</source>
        <translation>startet</translation>
    </message>
    <message>
        <source>running</source>
        <translation>läuft</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>angehalten</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>beendet</translation>
    </message>
    <message>
        <source>Sandbox</source>
        <translation>Sandbox</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>Sitzung</translation>
    </message>
    <message>
        <source>Delete sandbox…</source>
        <translation>Sandbox löschen…</translation>
    </message>
    <message>
        <source>Stop the VM and delete its disks</source>
        <translation>Die VM beenden und ihre Festplatten löschen</translation>
    </message>
    <message>
        <source>Select a sandbox to see its state, files and console.</source>
        <translation>Wählen Sie eine Sandbox, um ihren Zustand, ihre Dateien und die Konsole zu sehen.</translation>
    </message>
    <message>
        <source>Warm pool: %1 VM ready</source>
        <comment>a count of pre-booted VMs</comment>
        <translation>Warm-Pool: %1 VM bereit</translation>
    </message>
    <message>
        <source>(API)</source>
        <translation>(API)</translation>
    </message>
    <message>
        <source>Delete sandbox %1? Its VM stops and its files are deleted.</source>
        <translation>Sandbox %1 löschen? Ihre VM wird beendet und ihre Dateien werden gelöscht.</translation>
    </message>
    <message>
        <source>Delete sandbox %1 of session %2? Its VM stops; the session&apos;s next tool call starts a new one.</source>
        <translation>Sandbox %1 der Sitzung %2 löschen? Ihre VM wird beendet; der nächste Werkzeugaufruf der Sitzung startet eine neue.</translation>
    </message>
    <message>
        <source>Delete sandbox</source>
        <translation>Sandbox löschen</translation>
    </message>
    <message>
        <source>Could not delete sandbox %1: %2</source>
        <translation>Sandbox %1 konnte nicht gelöscht werden: %2</translation>
    </message>
    <message>
        <source>Sandbox %1 deleted.</source>
        <translation>Sandbox %1 gelöscht.</translation>
    </message>
    <message>
        <source>%1, started %2</source>
        <translation>%1, gestartet %2</translation>
    </message>
    <message>
        <source>VMs run under KVM (hardware virtualisation).</source>
        <translation>VMs laufen unter KVM (Hardware-Virtualisierung).</translation>
    </message>
    <message>
        <source>VMs run under TCG (software emulation: slower).</source>
        <translation>VMs laufen unter TCG (Software-Emulation: langsamer).</translation>
    </message>
    <message>
        <source>KVM is being tried: the first VM boot decides between KVM and TCG.</source>
        <translation>KVM wird versucht: der erste VM-Start entscheidet zwischen KVM und TCG.</translation>
    </message>
    <message>
        <source>Set in Settings → General (or VIVARIUM_SANDBOX_ACCEL).</source>
        <translation>Einstellbar unter Einstellungen → Allgemein (oder VIVARIUM_SANDBOX_ACCEL).</translation>
    </message>
</context>
<context>
    <name>viv::ScriptsDialog</name>
    <message>
        <source>Use from scripts</source>
        <translation>Aus Skripten verwenden</translation>
    </message>
    <message>
        <source>Scripts written for the official Anthropic SDK work against Vivarium: change only the base URL and the API key.</source>
        <translation>Skripte für das offizielle Anthropic-SDK funktionieren mit Vivarium: Ändern Sie nur die Basis-URL und den API-Schlüssel.</translation>
    </message>
    <message>
        <source>hidden — copy it to the clipboard</source>
        <translation>verborgen — in die Zwischenablage kopieren</translation>
    </message>
    <message>
        <source>Copy API key</source>
        <translation>API-Schlüssel kopieren</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Basis-URL:</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API-Schlüssel:</translation>
    </message>
    <message>
        <source>TypeScript</source>
        <translation>TypeScript</translation>
    </message>
    <message>
        <source>Python</source>
        <translation>Python</translation>
    </message>
    <message>
        <source>Then run it with the key in the environment: &lt;code&gt;VIVARIUM_API_KEY=… node script.mjs&lt;/code&gt;</source>
        <translation>Dann mit dem Schlüssel in der Umgebung ausführen: &lt;code&gt;VIVARIUM_API_KEY=… node script.mjs&lt;/code&gt;</translation>
    </message>
    <message>
        <source>Copied to the clipboard.</source>
        <translation>In die Zwischenablage kopiert.</translation>
    </message>
</context>
<context>
    <name>viv::SessionBudgetBar</name>
    <message>
        <source>List cost of this session&apos;s model requests (prices per model: README &quot;Budgets and usage&quot;)</source>
        <translation>Listenpreis der Modellanfragen dieser Sitzung (Preise je Modell: README „Budgets and usage“)</translation>
    </message>
    <message>
        <source>⛔ Budget reached</source>
        <translation>⛔ Budget erreicht</translation>
    </message>
    <message>
        <source>The session stopped at its budget: raise it to let the agent go on.</source>
        <translation>Die Sitzung hat an ihrem Budget angehalten: Erhöhen Sie es, damit der Agent weiterarbeitet.</translation>
    </message>
    <message>
        <source>Raise budget…</source>
        <translation>Budget erhöhen…</translation>
    </message>
    <message>
        <source>Cost: %1 of %2</source>
        <translation>Kosten: %1 von %2</translation>
    </message>
    <message>
        <source>Cost: %1</source>
        <translation>Kosten: %1</translation>
    </message>
    <message>
        <source>Change budget…</source>
        <translation>Budget ändern…</translation>
    </message>
    <message>
        <source>Session budget</source>
        <translation>Sitzungsbudget</translation>
    </message>
    <message>
        <source>Budget in US dollars (spent so far: %1). It must be above what was spent.</source>
        <translation>Budget in US-Dollar (bisher ausgegeben: %1). Es muss über dem Ausgegebenen liegen.</translation>
    </message>
    <message>
        <source>Budget set to %1.</source>
        <translation>Budget auf %1 gesetzt.</translation>
    </message>
</context>
<context>
    <name>viv::SessionCommands</name>
    <message>
        <source>Rename session</source>
        <translation>Sitzung umbenennen</translation>
    </message>
    <message>
        <source>Title (empty: named after its agent and start time):</source>
        <translation>Titel (leer: nach Agent und Startzeit benannt):</translation>
    </message>
    <message>
        <source>Renamed to “%1”.</source>
        <translation>Umbenannt in „%1“.</translation>
    </message>
    <message>
        <source>Archive session</source>
        <translation>Sitzung archivieren</translation>
    </message>
    <message>
        <source>Archive “%1”?

If the agent is working, it stops now. The session leaves the list and can never run or take messages again; its repository tokens are removed from the keychain. Its transcript is kept (readable through the API). This cannot be undone.</source>
        <translation>„%1“ archivieren?

Arbeitet der Agent, hält er jetzt an. Die Sitzung verschwindet aus der Liste und kann nie wieder laufen oder Nachrichten annehmen; ihre Repository-Token werden aus dem Schlüsselbund entfernt. Ihr Verlauf bleibt erhalten (über die API lesbar). Das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>“%1” archived.</source>
        <translation>„%1“ archiviert.</translation>
    </message>
    <message>
        <source>Delete session</source>
        <translation>Sitzung löschen</translation>
    </message>
    <message>
        <source>Delete “%1” permanently?

Its whole transcript (every event), its resources and their keychain entries are deleted; scripts can no longer read it. This cannot be undone: archive it instead to keep the transcript.</source>
        <translation>„%1“ endgültig löschen?

Ihr gesamter Verlauf (jedes Ereignis), ihre Ressourcen und deren Schlüsselbund-Einträge werden gelöscht; Skripte können sie nicht mehr lesen. Das lässt sich nicht rückgängig machen: Archivieren Sie sie stattdessen, um den Verlauf zu behalten.</translation>
    </message>
    <message>
        <source>“%1” deleted.</source>
        <translation>„%1“ gelöscht.</translation>
    </message>
</context>
<context>
    <name>viv::SessionOutputsPanel</name>
    <message>
        <source>Files the agent left in /mnt/session/outputs/, captured when a turn ends. They stay after the session&apos;s VM is gone.</source>
        <translation>Dateien, die der Agent in /mnt/session/outputs/ hinterlassen hat, übernommen am Ende eines Zugs. Sie bleiben erhalten, wenn die VM der Sitzung nicht mehr existiert.</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Captured</source>
        <translation>Übernommen</translation>
    </message>
    <message>
        <source>No outputs yet.</source>
        <translation>Noch keine Ausgaben.</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Öffnen</translation>
    </message>
    <message>
        <source>Open the file with the desktop&apos;s application for its type</source>
        <translation>Die Datei mit der Anwendung des Desktops für ihren Typ öffnen</translation>
    </message>
    <message>
        <source>Save as…</source>
        <translation>Speichern unter …</translation>
    </message>
    <message>
        <source>Outputs (%1)</source>
        <translation>Ausgaben (%1)</translation>
    </message>
    <message>
        <source>Outputs</source>
        <translation>Ausgaben</translation>
    </message>
    <message>
        <source>%1 · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>Cannot create the folder of %1.</source>
        <translation>Der Ordner für %1 kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>No application opens %1.</source>
        <translation>Keine Anwendung öffnet %1.</translation>
    </message>
    <message>
        <source>Save %1</source>
        <translation>%1 speichern</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 gespeichert</translation>
    </message>
</context>
<context>
    <name>viv::SessionView</name>
    <message>
        <source>No session selected</source>
        <translation>Keine Sitzung ausgewählt</translation>
    </message>
    <message>
        <source>Waiting for your decision</source>
        <translation>Wartet auf Ihre Entscheidung</translation>
    </message>
    <message>
        <source>Message the agent (Ctrl+Enter sends; while it works, messages queue)</source>
        <translation>Nachricht an den Agenten (Strg+Eingabe sendet; während er arbeitet, werden Nachrichten eingereiht)</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Interrupt</source>
        <translation>Unterbrechen</translation>
    </message>
    <message>
        <source>Stop the agent now; queued messages stay queued.</source>
        <translation>Den Agenten sofort anhalten; eingereihte Nachrichten bleiben eingereiht.</translation>
    </message>
    <message>
        <source>● running</source>
        <translation>● läuft</translation>
    </message>
    <message>
        <source>○ idle</source>
        <translation>○ bereit</translation>
    </message>
    <message>
        <source>■ terminated</source>
        <translation>■ beendet</translation>
    </message>
    <message>
        <source>↻ rescheduling</source>
        <translation>↻ wird neu eingeplant</translation>
    </message>
    <message>
        <source>Tokens: %1 in · %2 out · %3 cached</source>
        <translation>Tokens: %1 ein · %2 aus · %3 aus dem Cache</translation>
    </message>
    <message>
        <source>Queued: the agent reads it when its current step ends.</source>
        <translation>Eingereiht: Der Agent liest sie, sobald sein aktueller Schritt endet.</translation>
    </message>
    <message>
        <source>Interrupt sent.</source>
        <translation>Unterbrechung gesendet.</translation>
    </message>
    <message>
        <source>The agent called your custom tool &lt;b&gt;%1&lt;/b&gt; with:</source>
        <translation>Der Agent hat Ihr eigenes Werkzeug &lt;b&gt;%1&lt;/b&gt; aufgerufen mit:</translation>
    </message>
    <message>
        <source>The tool&apos;s result, as text</source>
        <translation>Das Ergebnis des Werkzeugs, als Text</translation>
    </message>
    <message>
        <source>This is an error</source>
        <translation>Das ist ein Fehler</translation>
    </message>
    <message>
        <source>Send result</source>
        <translation>Ergebnis senden</translation>
    </message>
    <message>
        <source>The agent wants to run &lt;b&gt;%1&lt;/b&gt;:</source>
        <translation>Der Agent möchte &lt;b&gt;%1&lt;/b&gt; ausführen:</translation>
    </message>
    <message>
        <source>Optional: tell the agent why you deny it</source>
        <translation>Optional: Sagen Sie dem Agenten, warum Sie ablehnen</translation>
    </message>
    <message>
        <source>Allow %1 for the rest of this session</source>
        <translation>%1 für den Rest dieser Sitzung erlauben</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>Erlauben</translation>
    </message>
    <message>
        <source>Deny</source>
        <translation>Ablehnen</translation>
    </message>
    <message>
        <source>Transcript</source>
        <translation>Verlauf</translation>
    </message>
    <message>
        <source>Sandbox</source>
        <translation>Sandbox</translation>
    </message>
    <message>
        <source>Preparing… %1</source>
        <translation>Wird vorbereitet … %1</translation>
    </message>
    <message>
        <source>No sandbox yet — it starts with the session&apos;s first tool call.</source>
        <translation>Noch keine Sandbox — sie startet mit dem ersten Werkzeugaufruf der Sitzung.</translation>
    </message>
    <message>
        <source>Session ▾</source>
        <translation>Sitzung ▾</translation>
    </message>
    <message>
        <source>Rename, archive or delete this session</source>
        <translation>Diese Sitzung umbenennen, archivieren oder löschen</translation>
    </message>
    <message>
        <source>Send message</source>
        <translation>Nachricht senden</translation>
    </message>
    <message>
        <source>Interrupt the agent</source>
        <translation>Agent unterbrechen</translation>
    </message>
    <message>
        <source>Approve the waiting tool call</source>
        <translation>Wartenden Werkzeugaufruf erlauben</translation>
    </message>
    <message>
        <source>Deny the waiting tool call</source>
        <translation>Wartenden Werkzeugaufruf ablehnen</translation>
    </message>
    <message>
        <source>Rename session…</source>
        <translation>Sitzung umbenennen …</translation>
    </message>
    <message>
        <source>Archive session…</source>
        <translation>Sitzung archivieren …</translation>
    </message>
    <message>
        <source>Delete session…</source>
        <translation>Sitzung löschen …</translation>
    </message>
    <message>
        <source>Find in transcript…</source>
        <translation>Im Verlauf suchen …</translation>
    </message>
    <message>
        <source>Export transcript as Markdown…</source>
        <translation>Verlauf als Markdown exportieren …</translation>
    </message>
    <message>
        <source>Export transcript as JSON (raw events)…</source>
        <translation>Verlauf als JSON exportieren (Rohereignisse) …</translation>
    </message>
    <message>
        <source>Send (%1)</source>
        <translation>Senden (%1)</translation>
    </message>
    <message>
        <source>Stop the agent now; queued messages stay queued (%1).</source>
        <translation>Den Agenten jetzt anhalten; eingereihte Nachrichten bleiben eingereiht (%1).</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Transcript exported to %1.</source>
        <translation>Verlauf nach %1 exportiert.</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Wird geladen …</translation>
    </message>
    <message>
        <source>◐ needs you</source>
        <translation>◐ braucht Sie</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>Ergebnisziel</translation>
    </message>
    <message>
        <source>Agent &lt;b&gt;%1&lt;/b&gt; (a delegate thread) wants to run &lt;b&gt;%2&lt;/b&gt;:</source>
        <translation>Agent &lt;b&gt;%1&lt;/b&gt; (ein delegierter Thread) möchte &lt;b&gt;%2&lt;/b&gt; ausführen:</translation>
    </message>
</context>
<context>
    <name>viv::SessionsPage</name>
    <message>
        <source>running</source>
        <translation>läuft</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>bereit</translation>
    </message>
    <message>
        <source>terminated</source>
        <translation>beendet</translation>
    </message>
    <message>
        <source>rescheduling</source>
        <translation>wird neu eingeplant</translation>
    </message>
    <message>
        <source>All statuses</source>
        <translation>Alle Status</translation>
    </message>
    <message>
        <source>Filter…</source>
        <translation>Filtern …</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>Aktualisiert</translation>
    </message>
    <message>
        <source>New session…</source>
        <translation>Neue Sitzung …</translation>
    </message>
    <message>
        <source>needs you</source>
        <translation>braucht Sie</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>Umbenennen …</translation>
    </message>
    <message>
        <source>Archive…</source>
        <translation>Archivieren …</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Löschen …</translation>
    </message>
</context>
<context>
    <name>viv::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>Stored in the OS keychain — type to replace</source>
        <translation>Im Schlüsselbund des Systems gespeichert — zum Ersetzen eintippen</translation>
    </message>
    <message>
        <source>Optional (a local Ollama needs none)</source>
        <translation>Optional (ein lokales Ollama braucht keinen)</translation>
    </message>
    <message>
        <source>e.g. llama3.1:8b, qwen2.5-coder</source>
        <translation>z. B. llama3.1:8b, qwen2.5-coder</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Verbindung testen</translation>
    </message>
    <message>
        <source>&lt;b&gt;Anthropic&lt;/b&gt;</source>
        <translation>&lt;b&gt;Anthropic&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation>Basis-URL:</translation>
    </message>
    <message>
        <source>API key:</source>
        <translation>API-Schlüssel:</translation>
    </message>
    <message>
        <source>&lt;b&gt;OpenAI-compatible&lt;/b&gt; (Ollama, vLLM, llama.cpp)</source>
        <translation>&lt;b&gt;OpenAI-kompatibel&lt;/b&gt; (Ollama, vLLM, llama.cpp)</translation>
    </message>
    <message>
        <source>Models:</source>
        <translation>Modelle:</translation>
    </message>
    <message>
        <source> MiB</source>
        <translation> MiB</translation>
    </message>
    <message>
        <source> GiB</source>
        <translation> GiB</translation>
    </message>
    <message>
        <source>Default model:</source>
        <translation>Standardmodell:</translation>
    </message>
    <message>
        <source>Warm VM pool:</source>
        <translation>Vorgewärmte VMs:</translation>
    </message>
    <message>
        <source>VM CPUs:</source>
        <translation>VM-CPUs:</translation>
    </message>
    <message>
        <source>VM memory:</source>
        <translation>VM-Speicher:</translation>
    </message>
    <message>
        <source>VM disk:</source>
        <translation>VM-Festplatte:</translation>
    </message>
    <message>
        <source>API port:</source>
        <translation>API-Port:</translation>
    </message>
    <message>
        <source>General</source>
        <translation>Allgemein</translation>
    </message>
    <message>
        <source>✗ Enter a URL such as http://127.0.0.1:11434/v1</source>
        <translation>✗ Geben Sie eine URL wie http://127.0.0.1:11434/v1 ein</translation>
    </message>
    <message>
        <source>The key was not saved: no keychain is available (%1). Other settings were saved.</source>
        <translation>Der Schlüssel wurde nicht gespeichert: Kein Schlüsselbund verfügbar (%1). Die übrigen Einstellungen wurden gespeichert.</translation>
    </message>
    <message>
        <source>Model providers</source>
        <translation>Modellanbieter</translation>
    </message>
    <message>
        <source>Automatic (KVM when a VM really runs under it, else TCG)</source>
        <translation>Automatisch (KVM, wenn eine VM wirklich darunter läuft, sonst TCG)</translation>
    </message>
    <message>
        <source>KVM (hardware virtualisation)</source>
        <translation>KVM (Hardware-Virtualisierung)</translation>
    </message>
    <message>
        <source>TCG (software emulation: slower, works everywhere)</source>
        <translation>TCG (Software-Emulation: langsamer, funktioniert überall)</translation>
    </message>
    <message>
        <source>Now: %1 — %2</source>
        <translation>Jetzt: %1 — %2</translation>
    </message>
    <message>
        <source>VM acceleration:</source>
        <translation>VM-Beschleunigung:</translation>
    </message>
    <message>
        <source>The API port (unless --listen is given) and the VM acceleration (unless VIVARIUM_SANDBOX_ACCEL is set) apply at the next start.</source>
        <translation>Der API-Port (außer wenn --listen angegeben ist) und die VM-Beschleunigung (außer wenn VIVARIUM_SANDBOX_ACCEL gesetzt ist) gelten ab dem nächsten Start.</translation>
    </message>
</context>
<context>
    <name>viv::ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>Tasten</translation>
    </message>
    <message>
        <source>Session shortcuts work while the Sessions area has the focus.</source>
        <translation>Sitzungskürzel wirken, solange der Bereich Sitzungen den Fokus hat.</translation>
    </message>
</context>
<context>
    <name>viv::SkillsPage</name>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>New from folder…</source>
        <translation>Neu aus Ordner…</translation>
    </message>
    <message>
        <source>Upload a folder whose top level holds SKILL.md as a new skill</source>
        <translation>Einen Ordner mit SKILL.md auf oberster Ebene als neuen Skill hochladen</translation>
    </message>
    <message>
        <source>New from zip…</source>
        <translation>Neu aus Zip…</translation>
    </message>
    <message>
        <source>Upload a .zip of a skill folder as a new skill</source>
        <translation>Ein .zip eines Skill-Ordners als neuen Skill hochladen</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Löschen…</translation>
    </message>
    <message>
        <source>Select a skill, or upload one.</source>
        <translation>Wählen Sie einen Skill aus oder laden Sie einen hoch.</translation>
    </message>
    <message>
        <source>New version from folder…</source>
        <translation>Neue Version aus Ordner…</translation>
    </message>
    <message>
        <source>New version from zip…</source>
        <translation>Neue Version aus Zip…</translation>
    </message>
    <message>
        <source>Delete version…</source>
        <translation>Version löschen…</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Versions (newest first):</source>
        <translation>Versionen (neueste zuerst):</translation>
    </message>
    <message>
        <source>%1 (version %2, skill version %3)</source>
        <translation>%1 (Version %2, Skill-Version %3)</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; — %2</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; — %2</translation>
    </message>
    <message>
        <source>Used by no agent.</source>
        <translation>Von keinem Agenten verwendet.</translation>
    </message>
    <message>
        <source>Used by: %1</source>
        <translation>Verwendet von: %1</translation>
    </message>
    <message>
        <source>%1 · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>A stored file of the skill cannot be read: %1</source>
        <translation>Eine gespeicherte Datei des Skills kann nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>(binary file, %1)</source>
        <translation>(Binärdatei, %1)</translation>
    </message>
    <message>
        <source>Upload a skill (.zip)</source>
        <translation>Skill hochladen (.zip)</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Zip-Archive (*.zip)</translation>
    </message>
    <message>
        <source>Upload a skill folder</source>
        <translation>Skill-Ordner hochladen</translation>
    </message>
    <message>
        <source>Skill %1 uploaded.</source>
        <translation>Skill %1 hochgeladen.</translation>
    </message>
    <message>
        <source>Version %1 uploaded.</source>
        <translation>Version %1 hochgeladen.</translation>
    </message>
    <message>
        <source>Delete skill</source>
        <translation>Skill löschen</translation>
    </message>
    <message>
        <source>Delete the skill %1 with all its versions? This cannot be undone.</source>
        <translation>Skill %1 mit allen Versionen löschen? Das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>Skill %1 deleted.</source>
        <translation>Skill %1 gelöscht.</translation>
    </message>
    <message>
        <source>Delete version</source>
        <translation>Version löschen</translation>
    </message>
    <message>
        <source>Delete version %1 of this skill? This cannot be undone.</source>
        <translation>Version %1 dieses Skills löschen? Das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>Version %1 deleted.</source>
        <translation>Version %1 gelöscht.</translation>
    </message>
</context>
<context>
    <name>viv::SkillsPicker</name>
    <message>
        <source>Skill</source>
        <translation>Skill</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>Add skill</source>
        <translation>Skill hinzufügen</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>latest</source>
        <translation>neueste</translation>
    </message>
    <message>
        <source>%1 of %2 skills: the limit is reached.</source>
        <translation>%1 von %2 Skills: die Grenze ist erreicht.</translation>
    </message>
    <message>
        <source>%1 of %2 skills.</source>
        <translation>%1 von %2 Skills.</translation>
    </message>
    <message>
        <source>Upload skills on the Skills page.</source>
        <translation>Skills laden Sie auf der Seite „Skills“ hoch.</translation>
    </message>
</context>
<context>
    <name>viv::ThreadsPanel</name>
    <message>
        <source>Thread</source>
        <translation>Thread</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>The agents this session&apos;s coordinator delegated to; select one to read its own transcript.</source>
        <translation>Die Agenten, an die der Koordinator dieser Sitzung delegiert hat; wählen Sie einen aus, um sein eigenes Protokoll zu lesen.</translation>
    </message>
    <message>
        <source>Select a thread to read its transcript.</source>
        <translation>Wählen Sie einen Thread aus, um sein Protokoll zu lesen.</translation>
    </message>
    <message>
        <source>● running</source>
        <translation>● läuft</translation>
    </message>
    <message>
        <source>○ idle</source>
        <translation>○ bereit</translation>
    </message>
    <message>
        <source>↻ rescheduling</source>
        <translation>↻ wird neu eingeplant</translation>
    </message>
    <message>
        <source>■ archived</source>
        <translation>■ archiviert</translation>
    </message>
    <message>
        <source>Thread of %1</source>
        <translation>Thread von %1</translation>
    </message>
    <message>
        <source>◐ needs you</source>
        <translation>◐ braucht Sie</translation>
    </message>
</context>
<context>
    <name>viv::TranscriptDelegate</name>
    <message>
        <source>awaiting your decision</source>
        <translation>wartet auf Ihre Entscheidung</translation>
    </message>
    <message>
        <source>allowed</source>
        <translation>erlaubt</translation>
    </message>
    <message>
        <source>denied</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>answered</source>
        <translation>beantwortet</translation>
    </message>
    <message>
        <source>(The model did not share its thinking.)</source>
        <translation>(Das Modell hat sein Nachdenken nicht geteilt.)</translation>
    </message>
    <message>
        <source>▸ collapsed — click to expand</source>
        <translation>▸ eingeklappt — zum Aufklappen klicken</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Eingabe</translation>
    </message>
    <message>
        <source>Output (error)</source>
        <translation>Ausgabe (Fehler)</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>(no output)</source>
        <translation>(keine Ausgabe)</translation>
    </message>
    <message numerus="yes">
        <source>Show all (%n lines)</source>
        <translation>
            <numerusform>Alles zeigen (%n Zeile)</numerusform>
            <numerusform>Alles zeigen (%n Zeilen)</numerusform>
        </translation>
    </message>
    <message>
        <source>Tool: %1</source>
        <translation>Werkzeug: %1</translation>
    </message>
    <message>
        <source>Thinking ▾</source>
        <translation>Nachdenken ▾</translation>
    </message>
    <message>
        <source>streaming…</source>
        <translation>wird gestreamt …</translation>
    </message>
    <message>
        <source>⊘ Tool: %1 — denied</source>
        <translation>⊘ Werkzeug: %1 — abgelehnt</translation>
    </message>
    <message>
        <source>✗ Tool: %1 — failed</source>
        <translation>✗ Werkzeug: %1 — fehlgeschlagen</translation>
    </message>
</context>
<context>
    <name>viv::TranscriptFind</name>
    <message>
        <source>Find in transcript</source>
        <translation>Im Verlauf suchen</translation>
    </message>
    <message>
        <source>▲</source>
        <translation>▲</translation>
    </message>
    <message>
        <source>Previous match (Shift+Return, Shift+F3)</source>
        <translation>Vorheriger Treffer (Umschalt+Eingabe, Umschalt+F3)</translation>
    </message>
    <message>
        <source>▼</source>
        <translation>▼</translation>
    </message>
    <message>
        <source>Next match (Return, F3)</source>
        <translation>Nächster Treffer (Eingabe, F3)</translation>
    </message>
    <message>
        <source>✕</source>
        <translation>✕</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>Schließen (Esc)</translation>
    </message>
    <message>
        <source>No match</source>
        <translation>Kein Treffer</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 von %2</translation>
    </message>
</context>
<context>
    <name>viv::TranscriptModel</name>
    <message>
        <source>[image]</source>
        <translation>[Bild]</translation>
    </message>
    <message>
        <source>[document: %1]</source>
        <translation>[Dokument: %1]</translation>
    </message>
    <message>
        <source>untitled</source>
        <translation>ohne Titel</translation>
    </message>
    <message>
        <source>[redacted]</source>
        <translation>[geschwärzt]</translation>
    </message>
    <message>
        <source>[search result: %1]</source>
        <translation>[Suchergebnis: %1]</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Sie</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>Nachdenken</translation>
    </message>
    <message>
        <source>%1 · %2 (MCP)</source>
        <translation>%1 · %2 (MCP)</translation>
    </message>
    <message>
        <source>%1 (custom tool)</source>
        <translation>%1 (eigenes Werkzeug)</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Ergebnis</translation>
    </message>
    <message>
        <source>You allowed a tool call</source>
        <translation>Sie haben einen Werkzeugaufruf erlaubt</translation>
    </message>
    <message>
        <source>You denied a tool call</source>
        <translation>Sie haben einen Werkzeugaufruf abgelehnt</translation>
    </message>
    <message>
        <source>You interrupted the agent</source>
        <translation>Sie haben den Agenten unterbrochen</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>Läuft</translation>
    </message>
    <message>
        <source>Waiting for you</source>
        <translation>Wartet auf Sie</translation>
    </message>
    <message>
        <source>Actions awaiting your decision: %1</source>
        <translation>Aktionen, die auf Ihre Entscheidung warten: %1</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>The agent finished its turn.</source>
        <translation>Der Agent hat seinen Zug beendet.</translation>
    </message>
    <message>
        <source>The agent stopped: retries exhausted.</source>
        <translation>Der Agent hat aufgehört: Wiederholungen erschöpft.</translation>
    </message>
    <message>
        <source>The agent stopped: budget reached.</source>
        <translation>Der Agent hat aufgehört: Budget erreicht.</translation>
    </message>
    <message>
        <source>The model refused to continue.</source>
        <translation>Das Modell hat die Fortsetzung verweigert.</translation>
    </message>
    <message>
        <source>Terminated</source>
        <translation>Beendet</translation>
    </message>
    <message>
        <source>Rescheduled</source>
        <translation>Neu eingeplant</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>%1 → %2</source>
        <translation>%1 → %2</translation>
    </message>
    <message>
        <source>Waited for your decision</source>
        <translation>Hat auf Ihre Entscheidung gewartet</translation>
    </message>
    <message>
        <source>Thinking — interrupted</source>
        <translation>Denken — unterbrochen</translation>
    </message>
    <message>
        <source>Agent — interrupted</source>
        <translation>Agent — unterbrochen</translation>
    </message>
    <message>
        <source>%1 — allowed for this session</source>
        <translation>%1 — für diese Sitzung erlaubt</translation>
    </message>
    <message>
        <source>Model request failed — attempt %1, retrying</source>
        <translation>Modellanfrage fehlgeschlagen — Versuch %1, neuer Versuch folgt</translation>
    </message>
    <message>
        <source>Model request failed — gave up after %1 attempts</source>
        <translation>Modellanfrage fehlgeschlagen — nach %1 Versuchen aufgegeben</translation>
    </message>
</context>
<context>
    <name>viv::TranscriptText</name>
    <message>
        <source>Select text</source>
        <translation>Text auswählen</translation>
    </message>
    <message>
        <source>Show the transcript as one text to select and copy freely (%1); again for the cards</source>
        <translation>Den Verlauf als einen Text zeigen, um frei auszuwählen und zu kopieren (%1); erneut für die Karten</translation>
    </message>
</context>
<context>
    <name>viv::TranscriptView</name>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>Copy output</source>
        <translation>Ausgabe kopieren</translation>
    </message>
    <message>
        <source>Copy the text of this card</source>
        <translation>Den Text dieser Karte kopieren</translation>
    </message>
    <message>
        <source>Copy the tool&apos;s output</source>
        <translation>Die Ausgabe des Werkzeugs kopieren</translation>
    </message>
</context>
<context>
    <name>viv::UnsavedChanges</name>
    <message>
        <source>● Unsaved changes</source>
        <translation>● Ungespeicherte Änderungen</translation>
    </message>
    <message>
        <source>Save with Ctrl+S</source>
        <translation>Mit Strg+S speichern</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>Ungespeicherte Änderungen</translation>
    </message>
    <message>
        <source>%1 has unsaved changes.</source>
        <translation>%1 hat ungespeicherte Änderungen.</translation>
    </message>
    <message>
        <source>Save them before going on, or discard them?</source>
        <translation>Vor dem Fortfahren speichern oder verwerfen?</translation>
    </message>
    <message>
        <source>This form</source>
        <translation>Dieses Formular</translation>
    </message>
</context>
<context>
    <name>viv::VaultsPage</name>
    <message>
        <source>New vault name</source>
        <translation>Name des neuen Tresors</translation>
    </message>
    <message>
        <source>Create vault</source>
        <translation>Tresor anlegen</translation>
    </message>
    <message>
        <source>Archive vault…</source>
        <translation>Tresor archivieren …</translation>
    </message>
    <message>
        <source>Vaults</source>
        <translation>Tresore</translation>
    </message>
    <message>
        <source>New credential</source>
        <translation>Neue Zugangsdaten</translation>
    </message>
    <message>
        <source>Credentials</source>
        <translation>Zugangsdaten</translation>
    </message>
    <message>
        <source>Bearer token for an MCP server</source>
        <translation>Bearer-Token für einen MCP-Server</translation>
    </message>
    <message>
        <source>Environment variable (API key)</source>
        <translation>Umgebungsvariable (API-Schlüssel)</translation>
    </message>
    <message>
        <source>MCP OAuth access token</source>
        <translation>MCP-OAuth-Zugriffstoken</translation>
    </message>
    <message>
        <source>Hosts it may be sent to, one per line (empty: any host)</source>
        <translation>Hosts, an die sie gesendet werden dürfen, einer pro Zeile (leer: jeder Host)</translation>
    </message>
    <message>
        <source>&amp;Type:</source>
        <translation>&amp;Typ:</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>MCP server &amp;URL:</source>
        <translation>MCP-Server-&amp;URL:</translation>
    </message>
    <message>
        <source>&amp;Variable name:</source>
        <translation>&amp;Variablenname:</translation>
    </message>
    <message>
        <source>Allowed hosts:</source>
        <translation>Erlaubte Hosts:</translation>
    </message>
    <message>
        <source>&amp;Secret:</source>
        <translation>&amp;Geheimnis:</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Löschen …</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>No keychain is available, so the secret was not stored (Vivarium never keeps secrets anywhere else). Start a Secret Service such as GNOME Keyring or KWallet and try again.

Details: %1</source>
        <translation>Kein Schlüsselbund verfügbar, daher wurde das Geheimnis nicht gespeichert (Vivarium bewahrt Geheimnisse nirgendwo sonst auf). Starten Sie einen Secret Service wie GNOME Keyring oder KWallet und versuchen Sie es erneut.

Details: %1</translation>
    </message>
    <message>
        <source>Give the vault a name.</source>
        <translation>Geben Sie dem Tresor einen Namen.</translation>
    </message>
    <message>
        <source>Vault created.</source>
        <translation>Tresor angelegt.</translation>
    </message>
    <message>
        <source>(unnamed)</source>
        <translation>(ohne Namen)</translation>
    </message>
    <message>
        <source>Stored in the OS keychain; never shown again</source>
        <translation>Im Schlüsselbund des Systems gespeichert; wird nie wieder angezeigt</translation>
    </message>
    <message>
        <source>Secrets are write-only: after saving they cannot be read back here.</source>
        <translation>Geheimnisse sind nur schreibbar: Nach dem Speichern lassen sie sich hier nicht mehr auslesen.</translation>
    </message>
    <message>
        <source>Credential %1</source>
        <translation>Zugangsdaten %1</translation>
    </message>
    <message>
        <source>•••••• stored in the keychain — type to replace</source>
        <translation>•••••• im Schlüsselbund gespeichert — zum Ersetzen eintippen</translation>
    </message>
    <message>
        <source>The stored secret cannot be shown. Leave the field empty to keep it.</source>
        <translation>Das gespeicherte Geheimnis kann nicht angezeigt werden. Lassen Sie das Feld leer, um es zu behalten.</translation>
    </message>
    <message>
        <source>Enter the secret.</source>
        <translation>Geben Sie das Geheimnis ein.</translation>
    </message>
    <message>
        <source>Credential saved.</source>
        <translation>Zugangsdaten gespeichert.</translation>
    </message>
    <message>
        <source>Credential stored in the keychain.</source>
        <translation>Zugangsdaten im Schlüsselbund gespeichert.</translation>
    </message>
    <message>
        <source>Delete credential</source>
        <translation>Zugangsdaten löschen</translation>
    </message>
    <message>
        <source>Delete this credential and its secret?</source>
        <translation>Diese Zugangsdaten und ihr Geheimnis löschen?</translation>
    </message>
    <message>
        <source>Credential deleted.</source>
        <translation>Zugangsdaten gelöscht.</translation>
    </message>
    <message>
        <source>Archive vault</source>
        <translation>Tresor archivieren</translation>
    </message>
    <message>
        <source>Archive this vault? Its secrets are removed from the keychain.</source>
        <translation>Diesen Tresor archivieren? Seine Geheimnisse werden aus dem Schlüsselbund entfernt.</translation>
    </message>
    <message>
        <source>Vault archived.</source>
        <translation>Tresor archiviert.</translation>
    </message>
    <message>
        <source>The new credential</source>
        <translation>Die neuen Zugangsdaten</translation>
    </message>
    <message>
        <source>The new credential “%1”</source>
        <translation>Die neuen Zugangsdaten „%1“</translation>
    </message>
    <message>
        <source>The credential “%1”</source>
        <translation>Die Zugangsdaten „%1“</translation>
    </message>
    <message>
        <source>Choose or create a vault first.</source>
        <translation>Wählen oder erstellen Sie zuerst einen Tresor.</translation>
    </message>
</context>
<context>
    <name>viv::ZipReader</name>
    <message>
        <source>The file is not a zip archive.</source>
        <translation>Die Datei ist kein Zip-Archiv.</translation>
    </message>
    <message>
        <source>The zip archive is damaged (its directory is incomplete).</source>
        <translation>Das Zip-Archiv ist beschädigt (sein Verzeichnis ist unvollständig).</translation>
    </message>
    <message>
        <source>The zip archive is damaged (entry %1).</source>
        <translation>Das Zip-Archiv ist beschädigt (Eintrag %1).</translation>
    </message>
    <message>
        <source>The zip entry %1 uses a compression method this app cannot read.</source>
        <translation>Der Zip-Eintrag %1 verwendet ein Kompressionsverfahren, das diese App nicht lesen kann.</translation>
    </message>
</context>
<context>
    <name>viv::threadview::ThreadEvents</name>
    <message>
        <source>Reported to %1</source>
        <translation>Bericht an %1</translation>
    </message>
    <message>
        <source>Delegated to %1</source>
        <translation>Delegiert an %1</translation>
    </message>
    <message>
        <source>Task from %1</source>
        <translation>Auftrag von %1</translation>
    </message>
    <message>
        <source>Report from %1</source>
        <translation>Bericht von %1</translation>
    </message>
    <message>
        <source>Thread started: %1</source>
        <translation>Thread gestartet: %1</translation>
    </message>
    <message>
        <source>Context compacted — older turns summarised for the model; the full history stays here</source>
        <translation>Kontext verdichtet — ältere Runden für das Modell zusammengefasst; der vollständige Verlauf bleibt hier</translation>
    </message>
    <message>
        <source>▸ click to learn more</source>
        <translation>▸ klicken für Details</translation>
    </message>
    <message>
        <source>The conversation grew too long for the model&apos;s context window, so the older turns were replaced by a summary in what the model is sent from here on. Nothing was deleted: every event above stays in this transcript, in the session&apos;s event log and in exports.</source>
        <translation>Die Unterhaltung wurde für das Kontextfenster des Modells zu lang, daher werden die älteren Runden in dem, was das Modell ab hier erhält, durch eine Zusammenfassung ersetzt. Nichts wurde gelöscht: Jedes Ereignis oben bleibt in diesem Protokoll, im Ereignisprotokoll der Sitzung und in Exporten.</translation>
    </message>
</context>
</TS>
