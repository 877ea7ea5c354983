"""Who is who: face embeddings from the landmarks we already track, the user's enrolled templates, and
a recogniser that names each tracked person with hysteresis (docs/models.md, "Face identity").

`align` (MediaPipe landmarks -> the embedding model's aligned chip) and `recognise` (templates,
decisions, hysteresis) are pure; `embedder` runs the model; `store` reads and writes the templates;
`enrol` turns a source's frames into templates. Sits with the classifiers in the data flow.
"""
