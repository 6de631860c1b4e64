"""Values as Wippy encodes them, below every other package: JSON text by Go's rules (`jsontext`) and
Temporal payloads (`payloads`)."""
