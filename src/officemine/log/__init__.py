"""The canonical event log: its columns (`schema`), the working calendar, `EventLog` with its
import report, the relations that give the log its one meaning, and the result contract every
analysis of a log builds on. It stands on `officemine.base` only."""
