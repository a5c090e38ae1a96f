// Grafana's own dashboard model (npm @grafana/schema), narrowed to what jolt's dashboards may
// use: the panel types listed below with their per-panel option types, Prometheus queries with
// a datasource uid, every gridPos field, and visualization actions that send a request.
// tests/it/dashboard_types.rs pastes each grafana/dashboards/*.json into a .ts file as
// `export const d: Dashboard = <json>;` and runs `tsc --strict --noEmit` on it.
import type * as G from '@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Timeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';

/** The JSON form of a schema type: string enums take their string values, and every option
 * may be left out (Grafana fills defaults), but no unknown key and no wrong type passes. */
type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]?: Json<T[K]> }
        : T;

/** A datasource reference must name its provisioned uid. */
type Ds<Type extends string> = { type: Type; uid: string };
type Prometheus = Ds<'prometheus'>;

/** Every field of the grid position, as numbers. */
type GridPos = { x: number; y: number; w: number; h: number };

/** A Prometheus query as jolt's dashboards write it. */
interface PromQuery {
  refId: string;
  datasource: Prometheus;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  hide?: boolean;
}

/** A button: a visualization action that sends one request from the browser. */
type Action = Omit<Json<G.Action>, 'type' | 'fetch' | 'title'> & {
  type: 'fetch';
  title: string;
  fetch: Omit<Json<G.FetchOptions>, 'method' | 'url'> & { method: G.HttpRequestMethod; url: string };
};

type Defaults<Custom> = Omit<Json<G.FieldConfig>, 'custom' | 'actions'> & {
  custom?: Json<Custom>;
  actions?: Action[];
};

type FieldConfigSource<Custom> = {
  defaults: Defaults<Custom>;
  overrides: Json<G.FieldConfigSource['overrides']>;
};

type Common = Omit<
  Json<G.Panel>,
  'type' | 'id' | 'gridPos' | 'datasource' | 'targets' | 'options' | 'fieldConfig'
> & { id: number; title: string; gridPos: GridPos };

/** A panel of type `Type` drawing Prometheus queries with options `Options`. */
type QueryPanel<Type extends string, Options, Custom = Record<string, never>> = Common & {
  type: Type;
  datasource: Prometheus;
  targets: PromQuery[];
  options: Json<Options>;
  fieldConfig: FieldConfigSource<Custom>;
};

/** Grafana's unified alert list (its options are not in @grafana/schema; this is
 * public/app/plugins/panel/alertlist/types.ts). */
interface AlertListOptions {
  maxItems: number;
  sortOrder: 1 | 2 | 3 | 4 | 5;
  dashboardAlerts: boolean;
  groupMode: 'default' | 'custom';
  groupBy: string[];
  alertName: string;
  showInstances: boolean;
  folder?: { uid: string; title: string };
  stateFilter: {
    firing: boolean;
    pending: boolean;
    recovering?: boolean;
    noData: boolean;
    normal: boolean;
    error: boolean;
  };
  alertInstanceLabelFilter: string;
  /** The name of a provisioned datasource whose rules are listed. */
  datasource: string;
  viewMode: 'list' | 'stat';
}

type AlertListPanel = Common & { type: 'alertlist'; options: AlertListOptions };

export type Panel =
  | QueryPanel<'stat', Stat.Options>
  | QueryPanel<'gauge', Gauge.Options>
  | QueryPanel<'bargauge', BarGauge.Options>
  | QueryPanel<'table', Table.Options, Table.FieldConfig>
  | QueryPanel<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>
  | QueryPanel<'state-timeline', Timeline.Options, Timeline.FieldConfig>
  | AlertListPanel;

export interface Row {
  type: 'row';
  id: number;
  title: string;
  collapsed: boolean;
  gridPos: GridPos;
  panels: Panel[];
}

/** A Prometheus annotation query (its extra keys are the Prometheus datasource's). */
type Annotation = Omit<Json<G.AnnotationQuery>, 'datasource'> & {
  datasource: Prometheus;
  name: string;
  enable: boolean;
  iconColor: string;
  expr: string;
  step?: string;
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
};

type Variable = Omit<Json<G.VariableModel>, 'datasource'> & { datasource?: Prometheus; definition?: string };

export type Dashboard = Omit<Json<G.Dashboard>, 'panels' | 'annotations' | 'templating'> & {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Array<Panel | Row>;
  annotations: { list: Annotation[] };
  templating: { list: Variable[] };
};
