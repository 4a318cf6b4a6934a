// Command admeter is the admeter ad measurement platform: one binary whose
// subcommands run the server and its tools. Run "admeter help" for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(os.Stderr, "admeter:", err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "admeter:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string) error {
	cmd := "help"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return (&ServeCommand{}).Run(ctx, args)
	case "report":
		return (&ReportCommand{}).Run(ctx, args)
	case "social":
		return (&SocialCommand{}).Run(ctx, args)
	case "simulate":
		return (&SimulateCommand{}).Run(ctx, args)
	case "keys":
		return (&KeysCommand{}).Run(ctx, args)
	case "audit":
		return (&AuditCommand{}).Run(ctx, args)
	case "optout":
		return (&OptOutCommand{}).Run(ctx, args)
	case "retention":
		return (&RetentionCommand{}).Run(ctx, args)
	case "version":
		return (&VersionCommand{}).Run(ctx, args)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(os.Stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q; run 'admeter help' for the list (未知命令)", cmd)}
	}
}

// usageError is a mistake in how admeter was called; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `admeter — privacy-first ad measurement / 隐私优先的广告监测平台

Usage / 用法:
	admeter <command> [flags]

Commands / 命令:
	serve     run the collector, the loader and the API on embedded defaults / 启动采集、入库与 API 服务
	report    print a campaign report from a running server / 查询活动报表
	social    import partner social feeds, set brands, print social insight / 社交数据导入、品牌设置与社会化洞察
	simulate  send realistic traffic with known ground truth to a server / 发送带真值的模拟流量
	retention run [--dry-run]  enforce the raw-data retention now / 立即执行数据保存期限
	keys      list, rotate the pseudonymisation key, rotate the master key / 密钥管理
	optout repair  repair a damaged opt-out registry of a stopped server / 修复退出登记文件
	audit verify   check the audit record's hash chain and checkpoints / 校验审计日志
	version   print the version / 显示版本

Every flag can also be set as an ADMETER_<FLAG> environment variable, e.g.
--data=/srv/admeter is ADMETER_DATA=/srv/admeter. Run "admeter <command> --help"
for a command's flags. 每个参数都可以用 ADMETER_<参数名> 环境变量设置。
`
