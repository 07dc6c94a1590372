/**
 * The one metric reader Leak Lab installs: it collects only when asked — by a
 * Prometheus scrape of `/metrics`, a notebook cell or a test — so metrics cost
 * nothing between reads. A scrape is serialized by OpenTelemetry's own
 * Prometheus exporter package; nothing here writes the exposition format.
 *
 * @module
 */
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MetricReader } from "@opentelemetry/sdk-metrics";

/** The `Content-Type` of a scrape: Prometheus' text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Resource attributes put on every series as labels (`service_name`,
 * `service_instance_id`), so the alerts of many instances behind one
 * Prometheus say which instance and service they are about. The exporter's
 * `target_info` series carries every resource attribute as well.
 */
export const RESOURCE_LABELS = /^service\.(name|instance\.id)$/;

/** A flattened metric data point, easy to print or plot. */
export interface MetricPoint {
  /** The instrument's name, e.g. `db.client.connection.count`. */
  name: string;
  /** The instrument's unit, e.g. `{connection}` or `s`. */
  unit: string;
  /** The series' attributes. */
  attributes: Record<string, unknown>;
  /** Sums and gauges: the value. Histograms: the count of recordings. */
  value: number;
  /** Histograms only: sum, min and max of the recordings. */
  sum?: number;
  /** Histograms only: the smallest recording. */
  min?: number;
  /** Histograms only: the largest recording. */
  max?: number;
}

/** Collects on demand, as flat points or as a Prometheus scrape. */
export class OnDemandMetricReader extends MetricReader {
  readonly #serializer = new PrometheusSerializer("", false, RESOURCE_LABELS);

  /** Every metric now, one point per series. */
  async points(): Promise<MetricPoint[]> {
    const { resourceMetrics } = await this.collect();
    const out: MetricPoint[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]) {
          const { name, unit } = metric.descriptor;
          const value = point.value;
          if (typeof value === "number") {
            out.push({ name, unit, attributes: point.attributes, value });
          } else {
            const h = value as { count: number; sum?: number; min?: number; max?: number };
            out.push({ name, unit, attributes: point.attributes, value: h.count, sum: h.sum, min: h.min, max: h.max });
          }
        }
      }
    }
    return out;
  }

  /** Every metric now, in the Prometheus text format (serve it with {@linkcode PROMETHEUS_CONTENT_TYPE}). */
  async prometheus(): Promise<string> {
    const { resourceMetrics } = await this.collect();
    return this.#serializer.serialize(resourceMetrics);
  }

  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
