// Package workday is mainland China's working-day calendar. It gives end-user
// rights requests and complaints their "15 working days" response deadline
// (privacy policy 四(三) and 八(四)).
//
// # The rule
//
// A day is a working day if it is listed as a working weekend day (调休上班),
// or if it is Monday–Friday and not listed as a day off (放假). Days are
// calendar days in China Standard Time (UTC+8, see Location); callers convert
// an instant with t.In(workday.Location()) first. A due date "n working days
// after" a request is the n-th working day after the day the request was
// received; the day of receipt never counts, even when it is itself a working
// day or falls in a holiday (see Calendar.AddWorkingDays).
//
// # Data source
//
// Each year's days off and working weekend days are published by the General
// Office of the State Council (国务院办公厅关于YYYY年部分节假日安排的通知),
// usually in November or December of the year before. The binary embeds the
// years in data/cn-YYYY.json; 2026 is copied from 国务院办公厅关于2026年部分节假日安排的通知
// (2025-11-04, published by Xinhua). Every file names its notice in "source",
// and Calendar.Source returns it.
//
// # Years without data
//
// A year with no file falls back to plain Monday–Friday, which is wrong around
// public holidays. The calendar says so: Calendar.Covers(year) is false for
// such a year and Calendar.Years lists the years that have data. The server
// should log a warning at start-up when the current or next year is not
// covered, and a due date whose span is not covered (Calendar.CoversSpan)
// should be marked as provisional. No data is ever guessed: years are added
// only from the published notice.
//
// # Adding next year
//
// When the notice for a new year appears, an operator writes it as a JSON file
// and gives its path (a file, or a directory of *.json files) to Load; the
// file takes effect at the next start. A file for a year that is also embedded
// replaces the embedded year, so a correction does not need a new binary. A
// developer can instead add data/cn-YYYY.json to this package so that later
// releases embed it. The format, in which only "note" is optional:
//
//	{
//	  "year": 2027,
//	  "source": "国务院办公厅关于2027年部分节假日安排的通知 (date of the notice)",
//	  "note": "free text",
//	  "days_off": [
//	    {"date": "2027-01-01", "name": "元旦"}
//	  ],
//	  "working_weekend_days": [
//	    {"date": "2027-MM-DD", "name": "春节调休上班"}
//	  ]
//	}
//
// days_off lists every day of every holiday block, including the Saturdays
// and Sundays inside a block (harmless, as the notices list them);
// working_weekend_days lists the Saturdays and Sundays worked in exchange.
// Parse rejects a file with an unknown or repeated field, a missing year or
// source, an empty days_off, a date that is not YYYY-MM-DD or not in the
// file's year, an entry without a name, a date listed twice or both as off and
// working, or a working weekend day that is not a Saturday or Sunday. Each
// error names the file and the entry, e.g.
//
//	workday: holiday file /etc/admeter/holidays/cn-2027.json: invalid holiday file:
//	working_weekend_days[0] "2027-02-08": a Monday; only a Saturday or Sunday can be a working weekend day …
package workday
