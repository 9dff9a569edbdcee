"""Signed credentials: a teacher's transcript as a 1EdTech CLR 2.0 / Open Badges 3.0 Verifiable
Credential (`document.py`), signed as a VC-JWT with the key ring's credential key (`signing.py`),
issued within the caller's scope (`issue.py`) and verified offline against the published keys or the
local key ring (`verify.py`). docs/credentials.md says how an outsider checks one."""
