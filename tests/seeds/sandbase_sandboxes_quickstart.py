# Seed (c): SandBase's "Cloud Sandboxes → Quick Start" (sandbase.ai/docs/agents/sandboxes),
# published in Python with `requests`. The code below is theirs; the only changes are BASE and the
# key, read from VIVARIUM_BASE_URL / VIVARIUM_API_KEY instead of the literals
# "https://api.sandbase.ai" and "sk-sb-YOUR_KEY". Like the original it reads `data.csv` from the
# current directory (run_seeds.py runs it in a directory that has one).
import os

import requests

BASE = os.environ["VIVARIUM_BASE_URL"]
HEADERS = {"Authorization": f"Bearer {os.environ['VIVARIUM_API_KEY']}"}

# 1. Create a sandbox (boots in ~60ms)
sandbox = requests.post(f"{BASE}/sandboxes", headers=HEADERS, json={
    "templateID": "code_interpreter",
    "timeout": 300
}).json()

sandbox_id = sandbox["sandboxID"]

# 2. Execute code
result = requests.post(f"{BASE}/sandboxes/{sandbox_id}/processes", headers=HEADERS, json={
    "cmd": "python3",
    "args": ["-c", "import pandas as pd; print(pd.__version__)"]
}).json()

print(result["stdout"])  # "2.1.4"

# 3. Upload a file
requests.post(f"{BASE}/sandboxes/{sandbox_id}/files", headers=HEADERS,
    files={"file": ("data.csv", open("data.csv", "rb"))},
    data={"path": "/workspace/data.csv"}
)

# 4. Process the file
result = requests.post(f"{BASE}/sandboxes/{sandbox_id}/processes", headers=HEADERS, json={
    "cmd": "python3",
    "args": ["-c", """
import pandas as pd
df = pd.read_csv('/workspace/data.csv')
print(f"Rows: {len(df)}, Columns: {list(df.columns)}")
print(df.describe().to_string())
"""]
}).json()

print(result["stdout"])
