-- watchparty_private.clean_text against the table of package textsafe (textsafe/textsafe_test.go):
-- the Supabase backend cleans names, titles, anime ids and messages by the same rule as the
-- embedded server and the client. Two of textsafe's cases cannot be written here, because
-- PostgreSQL text holds neither NUL nor invalid UTF-8: the NUL of "c0 controls" is left out, and
-- "c1 as raw byte" and "invalid utf8" have no counterpart (such input is refused before it gets
-- here).

do $$
declare
  c record;
  v text;
begin
  for c in select * from (values
    ('plain', E'hello', E'hello'),
    ('empty', E'', E''),
    ('osc title and clear screen', E'\x1b]0;X\x07\x1b[2J', E''),
    ('osc around text', E'a\x1b]0;X\x07b\x1b[2Jc', E'abc'),
    ('osc with ST', E'a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b', E'alinkb'),
    ('sgr', E'\x1b[31mred\x1b[0m', E'red'),
    ('dcs', E'a\x1bPq#0;2;0;0;0\x1b\\b', E'ab'),
    ('lone esc', E'x\x1b', E'x'),
    ('c0 controls', E'a\x01b\x07c\x08d\x7fe', E'abcde'),
    ('c1 as runes', E'a\u009b31mb\u0085c', E'a31mbc'),
    ('newlines and tabs', E'one\ntwo\r\nthree\tfour\u2028five', E'one two three four five'),
    ('bidi overrides', E'abc\u202edcba\u202c \u2066x\u2069 \u200fy\u200e', E'abcdcba x y'),
    ('bom', E'\ufeffhi', E'hi'),
    ('wide and emoji kept', E'小心 🐿️ 👨‍👩‍👧 👍🏽', E'小心 🐿️ 👨‍👩‍👧 👍🏽'),
    ('combining kept', E'e\u0301', E'e\u0301'),
    ('private use', E'a\ue000b\U000f0000c', E'abc'),
    ('paragraph separator', E'a\u2029b', E'a b'),
    ('trimmed', E' \t\n a b \u2028', E'a b')
  ) as t(name, input, want) loop
    v := watchparty_private.clean_text(c.input, false);
    perform tests.is(v, c.want, 'line: ' || c.name);
    perform tests.is(watchparty_private.clean_text(v, false), v, 'line: ' || c.name || ' (idempotent)');
  end loop;

  for c in select * from (values
    ('newlines kept', E'one\ntwo\n\nthree', E'one\ntwo\n\nthree'),
    ('tabs become spaces', E'a\tb', E'a b'),
    ('crlf is one newline', E'one\r\ntwo', E'one\ntwo'),
    ('lone cr', E'one\rtwo\n\r', E'one two'),
    ('separators become spaces', E'a\u2028b\u2029c', E'a b c'),
    ('bom and bidi dropped', E'\ufeffa\u202eb', E'ab'),
    ('escape inside a line', E'a\n\x1b[2Jb', E'a\nb'),
    ('trimmed, inner newlines kept', E'\n\n hi\nthere \n', E'hi\nthere'),
    ('empty after cleaning', E'  \n\t ', E'')
  ) as t(name, input, want) loop
    v := watchparty_private.clean_text(c.input, true);
    perform tests.is(v, c.want, 'multiline: ' || c.name);
    perform tests.is(watchparty_private.clean_text(v, true), v, 'multiline: ' || c.name || ' (idempotent)');
    perform tests.ok(position(E'\n' in watchparty_private.clean_text(c.input, false)) = 0,
      'line: ' || c.name || ' keeps no newline');
  end loop;

  perform tests.is(watchparty_private.clean_text(null, true), null::text, 'null stays null');
end $$;

-- Through the functions: a comment and a title with a tab, a BOM and U+2028 are stored as the
-- embedded server stores them.
select tests.new_user('alice');

do $$
declare
  v jsonb;
begin
  perform tests.act_as('alice');
  v := public.create_room(p_username => E'\ufeffal\tice', p_media_title => E'Ep\u20281\tpart\u2029two');
  perform tests.is(v #>> '{member,username}', 'al ice', 'a username: BOM dropped, tab a space');
  perform tests.is(v #>> '{room,media_title}', 'Ep 1 part two', 'a title: separators and tab become spaces');
  v := public.create_comment(v #>> '{room,room_id}', E'\ufeffa\tb\u2028c\r\nd\re');
  perform tests.is(v #>> '{comment,message}', E'a b c\nd e', 'a message: BOM dropped, tab, U+2028 and lone CR spaces, CR LF a newline');
end $$;
