using System.Globalization;

namespace SlateSharp.Bench.Workloads;

/// <summary>
/// Requests per million writes and what they cost at S3 Standard list prices (us-east-1, 2026): $0.005 per 1,000
/// PUT, COPY, POST or LIST; $0.0004 per 1,000 GET and HEAD; DELETE free. GCS Standard's class A / class B prices are
/// the same per request.
/// </summary>
internal static class RequestCost
{
    public const double PerPutOrList = 0.005 / 1000;
    public const double PerGetOrHead = 0.0004 / 1000;

    /// <summary>The dollars <paramref name="requests"/> cost.</summary>
    public static double Dollars(ObjectStoreStats requests) =>
        (requests.Puts + requests.Lists) * PerPutOrList + (requests.Gets + requests.Heads) * PerGetOrHead;

    /// <summary>The requests made between two readings of the same counters.</summary>
    public static ObjectStoreStats Between(ObjectStoreStats before, ObjectStoreStats after) => new(
        after.Gets - before.Gets, after.Puts - before.Puts, after.Lists - before.Lists, after.Deletes - before.Deletes, after.Heads - before.Heads,
        after.Failures - before.Failures, after.BytesRead - before.BytesRead, after.BytesWritten - before.BytesWritten);

    /// <summary>One line: requests by kind per million writes, and their cost per million writes.</summary>
    public static string Describe(ObjectStoreStats requests, long writes)
    {
        var scale = 1e6 / Math.Max(1, writes);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"per million writes: {requests.Puts * scale:N0} PUT, {requests.Gets * scale:N0} GET, {requests.Lists * scale:N0} LIST, {requests.Heads * scale:N0} HEAD, " +
            $"{requests.Deletes * scale:N0} DELETE; ${Dollars(requests) * scale:0.0000} at S3 list prices");
    }
}
