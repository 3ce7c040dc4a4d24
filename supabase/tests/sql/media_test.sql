-- The critical hole of issue 10: a room's media_url is handed to every guest's mpv, so a URL like
-- av://lavfi:…,metadata=mode=print:file=… made guests write attacker lines into their files.
-- Only http(s) URLs with a host, at most 2048 bytes, without white space, controls or format
-- characters are stored (before the trust migration every one of these was stored verbatim).

select tests.new_user('mallory'), tests.new_user('alice');

do $$
declare
  v_rule constant text :=
    'media_url must be an http:// or https:// URL (at most 2048 bytes, no spaces or control characters)';
  v_url text;
begin
  perform tests.act_as('mallory');
  foreach v_url in array array[
    'av://lavfi:sine,ametadata=mode=print:file=.bashrc',
    'lavfi://anullsrc',
    'edl://%22%.bashrc',
    'file:///etc/passwd',
    '/etc/passwd',
    'movie.mkv',
    'fd://0',
    'memory://hello',
    'ytdl://example.com',
    'HTTP:/example.com/v.mkv',
    'http:example.com',
    'http://',
    'http:///etc/passwd',
    'https://:443/v.mkv',
    'https://user@/v.mkv',
    'http://exa\mple.com/',
    'http://example.com/a b.mkv',
    E'http://example.com/a\tb.mkv',
    E'http://example.com/\nav://lavfi:x',
    E'https://example.com/\u0085',
    E'https://example.com/\u00a0',
    E'https://example.com/\u200b',
    E'https://example.com/\u202e',
    E'https://example.com/\u3000',
    ' https://example.com/v.mkv',
    'https://example.com/v.mkv ',
    'HTTPS://example.com/v.mkv',
    'Http://example.com/v.mkv',
    '',
    'https://example.com/' || repeat('x', 2029)
  ] loop
    perform tests.throws_message(format('select public.create_room(p_username => %L, p_media_url => %L)', 'm', v_url),
      'PT400', 'INVALID_REQUEST', v_rule, format('media_url %s is refused', left(v_url, 60)));
  end loop;

  perform tests.is(octet_length('https://example.com/' || repeat('é', 1014)), 2048, '(a URL of 2048 bytes)');
  perform tests.throws(format('select public.create_room(p_username => %L, p_media_url => %L)', 'm',
    'https://example.com/' || repeat('é', 1015)), 'PT400', 'INVALID_REQUEST', 'the limit counts bytes, not characters');
end $$;

do $$
declare
  v_url text;
begin
  perform tests.act_as('alice');
  foreach v_url in array array[
    'https://example.com/v.mkv',
    'http://example.com',
    'https://EXAMPLE.COM/V.MKV',
    'https://user:pw@cdn.example.com:8443/a/b.mkv?sig=x&t=1#t=30',
    'http://[::1]:8080/v.mkv',
    'https://bücher.example/film.mkv',
    'https://example.com/' || repeat('x', 2028)
  ] loop
    perform tests.is(public.create_room(p_username => 'alice', p_media_url => v_url) #>> '{room,media_url}', v_url,
      format('media_url %s is stored as sent', left(v_url, 60)));
    perform tests.act_as_admin();
    perform tests.reset_rates();
    perform tests.act_as('alice');
  end loop;
  perform tests.is(public.create_room(p_username => 'alice') -> 'room' -> 'media_url', 'null'::jsonb,
    'a room without media_url (a local file) stores none');
end $$;

-- The table refuses what the function would, whoever writes it (a hostile or buggy writer with
-- table rights: the service role, a dashboard edit).
do $$
begin
  perform tests.act_as_admin();
  perform tests.throws(format('insert into public.rooms (room_id, host_user_id, media_url) values (%L, %L, %L)',
    'aaaaaaaaaa', tests.uid('alice'), 'av://lavfi:sine,ametadata=mode=print:file=x'),
    '23514', null, 'the CHECK constraint refuses an av:// URL written straight into rooms');
  perform tests.throws(format('update public.rooms set media_url = %L', 'file:///etc/passwd'),
    '23514', null, 'the CHECK constraint refuses file:// on update');
  perform tests.ok((select convalidated from pg_constraint where conname = 'rooms_media_url_http'),
    'the media_url constraint is validated (old rows were cleared by the migration)');
end $$;
