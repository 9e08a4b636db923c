// Notification channels (admins): the typed calls of /api/v1/notifications/… and their query
// keys, kept apart from client.ts so this feature's API surface lives in one file. Secrets are
// write-only: the API answers with `secrets: {name: set?}` and takes `{name: value | null}`.
import { queryOptions } from '@tanstack/react-query';
import { request } from './client';
import type { components } from './schema';

type Schemas = components['schemas'];
export type Channel = Schemas['ChannelView'];
export type ChannelList = Schemas['ChannelList'];
export type ChannelBody = Schemas['ChannelBody'];
export type ChannelConfig = Schemas['ChannelConfig'];
export type Rules = Schemas['Rules'];
export type NoticeKind = Schemas['NoticeKind'];
export type DeliveryList = Schemas['DeliveryList'];
export type TestResult = Schemas['TestResult'];

export const notificationsApi = {
  channels: () => request<ChannelList>('/notifications/channels'),
  create: (body: ChannelBody) => request<Channel>('/notifications/channels', { method: 'POST', body }),
  update: (id: number, body: ChannelBody) => request<Channel>(`/notifications/channels/${id}`, { method: 'PUT', body }),
  remove: (id: number) => request<void>(`/notifications/channels/${id}`, { method: 'DELETE' }),
  test: (id: number) => request<TestResult>(`/notifications/channels/${id}/test`, { method: 'POST' }),
  deliveries: (id: number, limit = 50) => request<DeliveryList>(`/notifications/channels/${id}/deliveries`, { query: { limit } }),
};

/** The delivery log refreshes on its own while shown: retries and digests land in the background. */
export const DELIVERIES_POLL_MS = 5_000;

export const notificationQueries = {
  channels: () => queryOptions({ queryKey: ['notifications', 'channels'], queryFn: notificationsApi.channels }),
  deliveries: (id: number) =>
    queryOptions({ queryKey: ['notifications', 'deliveries', id], queryFn: () => notificationsApi.deliveries(id), refetchInterval: DELIVERIES_POLL_MS }),
};
