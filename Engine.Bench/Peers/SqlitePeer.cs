using Microsoft.Data.Sqlite;

namespace SlateSharp.Bench.Peers;

/// <summary>
/// SQLite (Microsoft.Data.Sqlite with its bundled e_sqlite3) as a key-value table <c>kv(k BLOB PRIMARY KEY, v BLOB)
/// WITHOUT ROWID</c>, WAL journal, 64 MiB page cache. One connection; calls are serialised by a lock, as SQLite allows
/// one writer anyway. Acknowledged mode: synchronous=NORMAL and 1,000 rows per transaction (a put is acknowledged in
/// the open transaction; a commit per row would measure fsync-free commit overhead, not the engine). Durable mode:
/// synchronous=FULL and one transaction per put or batch.
/// </summary>
internal sealed class SqlitePeer : IBenchEngine
{
    private readonly Lock _lock = new();
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _put;
    private readonly SqliteCommand _get;
    private readonly SqliteCommand _scan;
    private readonly bool _durable;
    private readonly int _rowsPerTransaction;
    private int _rowsInTransaction;

    public SqlitePeer(PeerOptions options)
    {
        _durable = options.Durable;
        _rowsPerTransaction = options.SqliteRowsPerTransaction;
        _connection = new SqliteConnection($"Data Source={Path.Combine(options.Directory, "kv.sqlite")};Pooling=False");
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL");
        Execute(_durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        Execute($"PRAGMA cache_size=-{options.CacheBytes / 1024}");
        Execute("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID");
        _put = Prepare("INSERT OR REPLACE INTO kv (k, v) VALUES ($k, $v)", "$k", "$v");
        _get = Prepare("SELECT v FROM kv WHERE k = $k", "$k");
        _scan = Prepare("SELECT k, v FROM kv WHERE k >= $k ORDER BY k LIMIT $n", "$k", "$n");
    }

    public string Name => "sqlite";

    public ValueTask PutAsync(byte[] key, byte[] value)
    {
        lock (_lock)
        {
            if (_durable)
            {
                Insert(key, value);
            }
            else
            {
                BeginIfNeeded();
                Insert(key, value);
                if (++_rowsInTransaction >= _rowsPerTransaction)
                {
                    Commit();
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask PutBatchAsync(IReadOnlyList<KeyValuePair<byte[], byte[]>> rows)
    {
        lock (_lock)
        {
            Commit();
            Execute("BEGIN");
            foreach (var (key, value) in rows)
            {
                Insert(key, value);
            }

            Execute("COMMIT");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> GetAsync(byte[] key)
    {
        lock (_lock)
        {
            _get.Parameters[0].Value = key;
            return ValueTask.FromResult(_get.ExecuteScalar() as byte[]);
        }
    }

    public ValueTask<int> ScanAsync(byte[] start, int rows)
    {
        lock (_lock)
        {
            _scan.Parameters[0].Value = start;
            _scan.Parameters[1].Value = rows;
            using var reader = _scan.ExecuteReader();
            var read = 0;
            while (reader.Read())
            {
                _ = reader.GetFieldValue<byte[]>(1);
                read++;
            }

            return ValueTask.FromResult(read);
        }
    }

    public ValueTask FlushToFilesAsync()
    {
        lock (_lock)
        {
            Commit();
            Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }

        return ValueTask.CompletedTask;
    }

    public string? Describe(long measuredOps) => null;

    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            Commit();
            _put.Dispose();
            _get.Dispose();
            _scan.Dispose();
            _connection.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private void Insert(byte[] key, byte[] value)
    {
        _put.Parameters[0].Value = key;
        _put.Parameters[1].Value = value;
        _put.ExecuteNonQuery();
    }

    private void BeginIfNeeded()
    {
        if (_rowsInTransaction == 0)
        {
            Execute("BEGIN");
            _rowsInTransaction = 0;
        }
    }

    private void Commit()
    {
        if (_rowsInTransaction > 0)
        {
            Execute("COMMIT");
            _rowsInTransaction = 0;
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }
}
