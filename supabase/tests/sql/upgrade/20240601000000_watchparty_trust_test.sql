-- Upgrading a project that ran the first two migrations: rows the old code stored (a hostile
-- media_url, which an old client would still hand to mpv; positions up to 1e308; over-long
-- titles and anime ids with escapes) are cleared or clamped, the new constraints are validated,
-- and the members and rooms that were fine stay as they were.

select tests.new_user('alice'), tests.new_user('bob');

-- Rows as the old functions (or a hostile writer with table rights) could leave them.
insert into public.rooms (room_id, host_user_id, media_url, media_title, media_duration, anime_id, "current_time") values
  ('hostile001', tests.uid('alice'), 'av://lavfi:sine,ametadata=mode=print:file=.bashrc', repeat('t', 300), 1e308,
   E'\u001b]0;x\u0007' || repeat('a', 100), 1e308),
  ('hostile002', tests.uid('alice'), 'file:///etc/passwd', 'ok', 'NaN', null, 'NaN'),
  ('fineroom01', tests.uid('alice'), 'https://example.com/v.mkv', 'Fine', 120, 'anime1', 30);
insert into public.room_members (room_id, user_id, username, role, "current_time") values
  ('hostile001', tests.uid('alice'), 'alice', 'host', 1e308),
  ('hostile002', tests.uid('alice'), 'alice', 'host', -5),
  ('fineroom01', tests.uid('alice'), 'alice', 'host', 12.5),
  ('fineroom01', tests.uid('bob'), 'bob', 'member', 0);
insert into public.comments (room_id, username, message, video_timestamp, anime_id) values
  ('hostile001', 'alice', 'hi', -3, repeat('b', 80)),
  ('fineroom01', 'alice', 'hi', 15, 'anime1');

\set ON_ERROR_STOP 1
\i :migration

do $$
begin
  perform tests.is((select media_url from public.rooms where room_id = 'hostile001'), null::text, 'an av:// media_url is cleared');
  perform tests.is((select media_url from public.rooms where room_id = 'hostile002'), null::text, 'a file:// media_url is cleared');
  perform tests.is((select media_url from public.rooms where room_id = 'fineroom01'), 'https://example.com/v.mkv', 'an https URL stays');
  perform tests.is((select char_length(media_title) from public.rooms where room_id = 'hostile001'), 200, 'a long title is cut to 200');
  perform tests.is((select anime_id from public.rooms where room_id = 'hostile001'), repeat('a', 64), 'an anime id is cleaned and cut to 64');
  perform tests.is((select media_duration from public.rooms where room_id = 'hostile001'), null::double precision, 'a 1e308 duration is unknown');
  perform tests.is((select media_duration from public.rooms where room_id = 'hostile002'), null::double precision, 'a NaN duration is unknown');
  perform tests.is((select "current_time" from public.rooms where room_id = 'hostile001'), 604800::double precision, 'a 1e308 position is a week');
  perform tests.is((select "current_time" from public.rooms where room_id = 'hostile002'), 0::double precision, 'a NaN position is 0');
  perform tests.is((select array_agg("current_time" order by room_id, user_id) from public.room_members where user_id = tests.uid('alice')),
    array[12.5, 604800, 0]::double precision[], 'member positions are clamped into 0 … one week');
  perform tests.is((select video_timestamp from public.comments where room_id = 'hostile001'), null::double precision, 'a negative comment timestamp is dropped');
  perform tests.is((select char_length(anime_id) from public.comments where room_id = 'hostile001'), 64, 'a comment''s anime id is cut to 64');
  perform tests.is((select count(*) from public.room_members where left_at is null), 4::bigint, 'every existing member is current');
  perform tests.ok((select bool_and(convalidated) from pg_constraint where conname in ('rooms_media_url_http', 'rooms_media_title_length',
      'rooms_anime_id_length', 'rooms_media_duration_week', 'rooms_current_time_week', 'room_members_current_time_week',
      'comments_video_timestamp_week', 'comments_anime_id_length')), 'the new constraints hold for every row');
  perform tests.is((select count(*) from pg_constraint where conname in ('rooms_media_url_http', 'rooms_media_title_length',
      'rooms_anime_id_length', 'rooms_media_duration_week', 'rooms_current_time_week', 'room_members_current_time_week',
      'comments_video_timestamp_week', 'comments_anime_id_length')), 8::bigint, '(all eight)');
end $$;

do $$
begin
  perform tests.act_as('bob');
  perform tests.is(public.get_room_sync_state('fineroom01') #>> '{room,media_title}', 'Fine', 'an old member still reads its room');
  perform tests.is(jsonb_array_length(public.get_room_sync_state('fineroom01') -> 'members'), 2, 'with both members current');
end $$;
