"""Teaching mode: the case library, a trainer-driven session with commit-before-reveal
scoring, presentation mode, and the session summary as HTML or PDF."""
