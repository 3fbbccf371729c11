using SlateSharp.Bench.Workloads;

namespace SlateSharp.Tests.Bench;

/// <summary>The bench's requests-per-million-writes line and the request counts of one phase of a run.</summary>
public sealed class RequestCostTests
{
    [Test]
    public void A_phase_is_the_difference_of_two_readings_kind_by_kind()
    {
        var writes = new ObjectStoreStats(Gets: 10, Puts: 50, Lists: 3, Deletes: 1, Heads: 7, Failures: 0, BytesRead: 1000, BytesWritten: 9000);
        var run = new ObjectStoreStats(Gets: 1010, Puts: 50, Lists: 3, Deletes: 1, Heads: 9, Failures: 2, BytesRead: 5000, BytesWritten: 9000);

        Assert.That(RequestCost.Between(writes, run), Is.EqualTo(new ObjectStoreStats(1000, 0, 0, 0, 2, 2, 4000, 0)));
    }

    [Test]
    public void Requests_are_scaled_to_a_million_writes_and_priced_at_s3_list_prices()
    {
        // 50 PUTs and 3 LISTs at $0.005 per 1,000, 10 GETs and 7 HEADs at $0.0004 per 1,000, for 500,000 writes.
        var requests = new ObjectStoreStats(Gets: 10, Puts: 50, Lists: 3, Deletes: 1, Heads: 7, Failures: 0, BytesRead: 0, BytesWritten: 0);

        Assert.That(
            RequestCost.Describe(requests, 500_000),
            Is.EqualTo("per million writes: 100 PUT, 20 GET, 6 LIST, 14 HEAD, 2 DELETE; $0.0005 at S3 list prices"));
    }
}
