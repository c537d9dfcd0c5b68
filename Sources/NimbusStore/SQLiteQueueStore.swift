import GRDB
import NimbusCore

/// ``QueueStore`` in the embedded SQLite database. Placeholder while the SQS service is written.
public final class SQLiteQueueStore: QueueStore {
    let database: NimbusDatabase

    public init(database: NimbusDatabase) {
        self.database = database
    }
}
