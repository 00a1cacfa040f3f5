"""aidc's policy pack: security and cost rules over plan documents, shared by CrossGuard
(`__main__.py`) and the offline runner (`aidc policy`)."""
